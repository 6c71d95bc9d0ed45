/// What one agent measured in a step, on its own clock: the common envelope (start, stop, window,
/// system CPU) and the workload's own typed result for the agent's role.
package struct SideResult: Codable, Equatable, Sendable {
    /// When this side really started.
    package var startedNs: Int64
    /// When this side stopped.
    package var stoppedNs: Int64
    /// Start of this side's measurement window (after warm-up).
    package var windowStartNs: Int64
    /// End of this side's measurement window.
    package var windowEndNs: Int64
    /// This host's system-wide CPU use over the window (the session adds it).
    package var cpu: CPUUsage?
    /// What the workload measured on this side.
    package var outcome: SideOutcome

    package init(
        startedNs: Int64, stoppedNs: Int64, windowStartNs: Int64, windowEndNs: Int64, cpu: CPUUsage? = nil,
        outcome: SideOutcome
    ) {
        self.startedNs = startedNs
        self.stoppedNs = stoppedNs
        self.windowStartNs = windowStartNs
        self.windowEndNs = windowEndNs
        self.cpu = cpu
        self.outcome = outcome
    }

    /// Transactions or operations this side completed in the window, where it counts them.
    package var completions: UInt64? {
        switch outcome {
        case .rrClient(let r): r.transactions
        case .rrServer(let r): r.served
        case .redisClient(let r): r.operations
        case .mysqlClient(let r): r.transactions
        default: nil
        }
    }
}

/// The typed result of one side of a step, one case per workload and side. A field that is missing
/// on the wire is a decode error, never a zero.
package enum SideOutcome: Codable, Equatable, Sendable {
    /// TCP_RR / UDP_RR client.
    case rrClient(RRClientResult)
    /// TCP_RR / UDP_RR responder.
    case rrServer(RRServerResult)
    /// Bulk sender.
    case streamSender(StreamSenderResult)
    /// Bulk receiver.
    case streamReceiver(StreamReceiverResult)
    /// Redis load generator.
    case redisClient(RedisClientResult)
    /// Redis server side.
    case redisServer(RedisServerResult)
    /// MySQL load generator.
    case mysqlClient(MySQLClientResult)
    /// MySQL server side.
    case mysqlServer(MySQLServerResult)
    /// A `host` agent: only the system CPU of the envelope.
    case hostMeter

    /// Whether this is the result an agent in `role` gives for `workload`.
    package func fits(_ workload: Workload, role: Role) -> Bool {
        switch (self, workload, role) {
        case (.hostMeter, _, .host): true
        case (.rrClient, .rr, .peer), (.rrServer, .rr, .sut): true
        case (.streamSender, .stream(let s), .sut), (.streamReceiver, .stream(let s), .peer): s.sutSends
        case (.streamSender, .stream(let s), .peer), (.streamReceiver, .stream(let s), .sut): !s.sutSends
        case (.redisClient, .redis, .peer), (.redisServer, .redis, .sut): true
        case (.mysqlClient, .mysql, .peer), (.mysqlServer, .mysql, .sut): true
        default: false
        }
    }
}

/// What every load generator reports about its own threads.
package struct LoadThreads: Codable, Equatable, Sendable {
    /// Worker threads that ran the load.
    package var threads: Int
    /// CPU time of those threads over the window, seconds (CLOCK_THREAD_CPUTIME_ID).
    package var cpuSeconds: Double

    package init(threads: Int, cpuSeconds: Double) {
        self.threads = threads
        self.cpuSeconds = cpuSeconds
    }
}
