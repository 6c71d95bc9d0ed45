/// The client side of a TCP_RR / UDP_RR step.
package struct RRClientResult: Codable, Equatable, Sendable {
    /// Transactions completed inside the window.
    package var transactions: UInt64
    /// UDP transactions lost inside the window (their response did not come within the loss timeout).
    package var lost: UInt64
    /// Round-trip latency of the window's transactions, nanoseconds.
    package var latency: HistogramSnapshot
    /// The flows' threads.
    package var load: LoadThreads
    /// The round trips of the same transactions split into their three parts; `nil` when the
    /// responses carry no stamps (``RRSpec/carriesStamps``) or the SUT's clock was not known.
    package var oneWay: RROneWay?

    package init(
        transactions: UInt64, lost: UInt64, latency: HistogramSnapshot, load: LoadThreads, oneWay: RROneWay? = nil
    ) {
        self.transactions = transactions
        self.lost = lost
        self.latency = latency
        self.load = load
        self.oneWay = oneWay
    }
}

/// One-way delays of a request/response step's window, nanoseconds: the request's flight (the
/// peer's send to the SUT's receive), the SUT's time (its receive to its send, one clock) and the
/// response's flight (the SUT's send to the peer's receive). The two flights are read across two
/// clocks with the offset the coordinator gave (``Placement/sutClockOffsetNs``); the three add up
/// to the round trip of each transaction.
package struct RROneWay: Codable, Equatable, Sendable {
    package var request: HistogramSnapshot
    package var sut: HistogramSnapshot
    package var response: HistogramSnapshot
    /// The SUT's clock minus the peer's that the flights were read with.
    package var sutClockOffsetNs: Int64
    /// Flights that came out negative (a clock offset off by more than the flight) and were counted as 0.
    package var clamped: UInt64

    package init(
        request: HistogramSnapshot, sut: HistogramSnapshot, response: HistogramSnapshot, sutClockOffsetNs: Int64,
        clamped: UInt64
    ) {
        self.request = request
        self.sut = sut
        self.response = response
        self.sutClockOffsetNs = sutClockOffsetNs
        self.clamped = clamped
    }

    /// Several peers' as one (each read with its own offset); `nil` when any lacks them.
    package static func merged(_ all: [RROneWay?]) -> RROneWay? {
        let present = all.compactMap { $0 }
        guard !present.isEmpty, present.count == all.count else { return nil }
        return RROneWay(
            request: .merged(present.map(\.request)), sut: .merged(present.map(\.sut)),
            response: .merged(present.map(\.response)), sutClockOffsetNs: present[0].sutClockOffsetNs,
            clamped: present.map(\.clamped).reduce(0, +))
    }
}

/// The responder side of a TCP_RR / UDP_RR step.
package struct RRServerResult: Codable, Equatable, Sendable {
    /// Requests answered from the start to the stop (warm-up included).
    package var served: UInt64

    package init(served: UInt64) { self.served = served }
}
