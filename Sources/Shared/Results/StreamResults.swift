/// The sending side of a bulk step.
package struct StreamSenderResult: Codable, Equatable, Sendable {
    /// TCP retransmissions of the sending sockets over the step.
    package var retransmits: UInt64
    /// The streams' threads.
    package var load: LoadThreads

    package init(retransmits: UInt64, load: LoadThreads) {
        self.retransmits = retransmits
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
