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

    package init(transactions: UInt64, lost: UInt64, latency: HistogramSnapshot, load: LoadThreads) {
        self.transactions = transactions
        self.lost = lost
        self.latency = latency
        self.load = load
    }
}

/// The responder side of a TCP_RR / UDP_RR step.
package struct RRServerResult: Codable, Equatable, Sendable {
    /// Requests answered from the start to the stop (warm-up included).
    package var served: UInt64

    package init(served: UInt64) { self.served = served }
}
