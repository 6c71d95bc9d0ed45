import Foundation

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
    /// ``Provenance/digest()`` of this side's host when the step ended (the session adds it).
    package var provenanceDigest: String?

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
    /// A `host` agent: the system CPU of the envelope, and which NAT path the step's traffic took.
    case hostMeter(HostMeterResult)

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

/// What the `host` agent measured besides the machine's CPU.
package struct HostMeterResult: Codable, Equatable, Sendable {
    /// netns-nat: packets its DNAT rules translated during the step, by hook: `prerouting` for traffic
    /// from other hosts, `output` for this host's own; `nil` in modes without lockstep's rules.
    package var natPackets: NATPackets?

    package init(natPackets: NATPackets? = nil) { self.natPackets = natPackets }
}

/// Packets translated by the DNAT rules of a netns-nat guest, per hook.
package struct NATPackets: Codable, Equatable, Sendable {
    package var prerouting: UInt64
    package var output: UInt64

    package init(prerouting: UInt64, output: UInt64) {
        self.prerouting = prerouting
        self.output = output
    }

    /// The counts since `earlier`.
    package func since(_ earlier: NATPackets) -> NATPackets {
        NATPackets(prerouting: prerouting &- earlier.prerouting, output: output &- earlier.output)
    }

    /// Sums the `counter packets N` of an nft table listing per chain: `pre` and `out`.
    package init(nftListing text: String) {
        var chain = ""
        var totals: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            if words.first == "chain", words.count >= 2 { chain = words[1] }
            if let i = words.firstIndex(of: "packets"), i + 1 < words.count, let n = UInt64(words[i + 1]) {
                totals[chain, default: 0] += n
            }
        }
        self.init(prerouting: totals["pre"] ?? 0, output: totals["out"] ?? 0)
    }
}
