/// Counters of one interval of a running step, streamed about once a second.
package struct IntervalSample: Codable, Equatable, Sendable {
    /// The step this belongs to.
    package var stepID: String
    /// 0-based interval number since the start.
    package var index: Int
    /// End of the interval on the agent's clock.
    package var tNs: Int64
    /// Length of the interval in nanoseconds.
    package var lengthNs: Int64
    /// Transactions completed in the interval.
    package var transactions: UInt64
    /// Transactions lost in the interval (UDP timeouts).
    package var lost: UInt64
    /// Payload bytes received in the interval (bulk transfer).
    package var bytes: UInt64?
    /// The latencies of the interval's transactions added up, nanoseconds (their mean is this over
    /// `transactions`); `nil` where the engine does not time them.
    package var latencyNs: UInt64?
    /// The agent's machine's busy CPU over the interval, percent of all its CPUs.
    package var cpuPercent: Double?
    package init(
        stepID: String, index: Int, tNs: Int64, lengthNs: Int64, transactions: UInt64, lost: UInt64,
        bytes: UInt64? = nil
    ) {
        self.stepID = stepID
        self.index = index
        self.tNs = tNs
        self.lengthNs = lengthNs
        self.transactions = transactions
        self.lost = lost
        self.bytes = bytes
    }
}

/// The final result of one side of a step.
package struct Finished: Codable, Equatable, Sendable {
    /// The step this belongs to.
    package var stepID: String
    /// What the agent measured.
    package var result: SideResult
    package init(stepID: String, result: SideResult) {
        self.stepID = stepID
        self.result = result
    }
}
