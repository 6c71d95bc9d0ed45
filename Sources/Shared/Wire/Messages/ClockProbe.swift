/// NTP-style probe: `t0` is the coordinator's clock when it sent the probe.
package struct ClockProbe: Codable, Equatable, Sendable {
    /// Coordinator clock when the probe was sent.
    package var t0: Int64
    package init(t0: Int64) { self.t0 = t0 }
}

/// Answer to a probe: `t1` when the agent received it, `t2` when it answered, both on the agent's clock.
package struct ClockReply: Codable, Equatable, Sendable {
    /// Coordinator clock when the probe was sent.
    package var t0: Int64
    /// Agent clock when the probe arrived.
    package var t1: Int64
    /// Agent clock when the reply left.
    package var t2: Int64
    package init(t0: Int64, t1: Int64, t2: Int64) {
        self.t0 = t0
        self.t1 = t1
        self.t2 = t2
    }
}
