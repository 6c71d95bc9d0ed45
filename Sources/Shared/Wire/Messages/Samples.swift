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

/// What one agent measured in a step, on its own clock.
package struct SideResult: Codable, Equatable, Sendable {
    /// When this side really started.
    package var startedNs: Int64
    /// When this side stopped.
    package var stoppedNs: Int64
    /// Start of this side's measurement window (after warm-up).
    package var windowStartNs: Int64
    /// End of this side's measurement window.
    package var windowEndNs: Int64
    /// Transactions inside the window.
    package var transactions: UInt64
    /// Transactions lost inside the window.
    package var lost: UInt64
    /// Latency histogram of the window, in nanoseconds (clients only).
    package var latency: HistogramSnapshot?
    /// Payload bytes received inside the window (bulk receivers).
    package var bytes: UInt64?
    /// TCP retransmissions of this side's sending sockets over the step (bulk senders).
    package var retransmits: UInt64?
    /// This host's system-wide CPU use over the window.
    package var cpu: CPUUsage?
    /// Workload-specific counters by name (Redis: `get_ops`, `hits`, `redis_used_memory_bytes`, ...).
    package var counters: [String: Double]?

    package init(
        startedNs: Int64, stoppedNs: Int64, windowStartNs: Int64, windowEndNs: Int64,
        transactions: UInt64, lost: UInt64, latency: HistogramSnapshot?, bytes: UInt64? = nil,
        retransmits: UInt64? = nil, cpu: CPUUsage? = nil, counters: [String: Double]? = nil
    ) {
        self.startedNs = startedNs
        self.stoppedNs = stoppedNs
        self.windowStartNs = windowStartNs
        self.windowEndNs = windowEndNs
        self.transactions = transactions
        self.lost = lost
        self.latency = latency
        self.bytes = bytes
        self.retransmits = retransmits
        self.cpu = cpu
        self.counters = counters
    }
}
