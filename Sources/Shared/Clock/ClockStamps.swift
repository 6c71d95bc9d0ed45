/// Where each of an exchange's four times came from, recorded in run.json beside the offset: a
/// kernel timestamp taken as the datagram passed the network stack, or a clock read in user space
/// next to the system call (which adds the call's own time to the round trip, never to the error).
package struct ClockStamps: Codable, Equatable, Sendable {
    /// The source of one time.
    package enum Source: String, Codable, Sendable {
        /// SO_TIMESTAMPING's software transmit stamp, when the datagram was handed to the device.
        case kernelSoftwareSend = "kernel-software-tx"
        /// SO_TIMESTAMPNS's software receive stamp, when the datagram entered the stack.
        case kernelSoftwareReceive = "kernel-software-rx"
        /// CLOCK_MONOTONIC read just before the send.
        case userBeforeSend = "user-before-send"
        /// CLOCK_MONOTONIC read just after the receive returned.
        case userAfterReceive = "user-after-receive"
        /// Stamped by the event loop of the control connection (the fallback path).
        case eventLoop = "event-loop"
    }

    /// The coordinator's send.
    package var t0: Source
    /// The agent's receive.
    package var t1: Source
    /// The agent's send.
    package var t2: Source
    /// The coordinator's receive.
    package var t3: Source

    package init(t0: Source, t1: Source, t2: Source, t3: Source) {
        self.t0 = t0
        self.t1 = t1
        self.t2 = t2
        self.t3 = t3
    }

    /// The control channel's stamps: all four on event loops.
    package static let controlChannel = ClockStamps(t0: .eventLoop, t1: .eventLoop, t2: .eventLoop, t3: .eventLoop)
}
