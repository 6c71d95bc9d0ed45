/// The sending side of a bulk step.
package struct StreamSenderResult: Codable, Equatable, Sendable {
    /// TCP retransmissions of the sending sockets over the step.
    package var retransmits: UInt64
    /// Payload bytes the sockets took inside the window (what this sender offered; goodput is the
    /// receiver's count). With several peers sending to one SUT, each peer's share of the load.
    package var bytes: UInt64
    /// The streams' threads.
    package var load: LoadThreads

    package init(retransmits: UInt64, bytes: UInt64, load: LoadThreads) {
        self.retransmits = retransmits
        self.bytes = bytes
        self.load = load
    }
}

/// The receiving side of a bulk step: it counts goodput.
package struct StreamReceiverResult: Codable, Equatable, Sendable {
    /// Payload bytes received inside the window.
    package var bytes: UInt64
    /// The streams' threads.
    package var load: LoadThreads

    package init(bytes: UInt64, load: LoadThreads) {
        self.bytes = bytes
        self.load = load
    }
}
