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
    package var completions: UInt64? { outcome.value.completions }
}

/// The typed result of one side of a step: a ``WorkloadResult`` of the step's workload for its
/// role (or the host agent's ``HostMeterResult``). Encoded as one key, the result's kind, holding
/// it: `{"rrClient": {...}}`; decoding finds the type in ``WorkloadRegistry``.
package struct SideOutcome: Codable, Equatable, Sendable {
    /// The result, of the type the workload and role give.
    package let value: any WorkloadResult

    /// Wraps a result.
    package init(_ value: some WorkloadResult) { self.value = value }

    /// The result as `R`, when it is one.
    package func `as`<R: WorkloadResult>(_: R.Type) -> R? { value as? R }

    /// Whether this is the result an agent in `role` gives for `workload`.
    package func fits(_ workload: Workload, role: Role) -> Bool {
        let expected: (any WorkloadResult.Type)? =
            role == .host ? HostMeterResult.self : workload.type.expectedResult(workload.spec, role: role)
        return expected.map { ObjectIdentifier($0) == ObjectIdentifier(type(of: value)) } ?? false
    }

    /// The merged result of the same kind of outcome from every peer; `nil` for none, mixed kinds,
    /// or results that do not add up.
    package static func merged(_ outcomes: [SideOutcome]) -> SideOutcome? {
        guard let first = outcomes.first else { return nil }
        guard outcomes.count > 1 else { return first }
        return first.value.mergedWith(outcomes.map(\.value))
    }

    /// Equal when both are the same result type with equal values.
    package static func == (a: SideOutcome, b: SideOutcome) -> Bool { a.value.isEqual(b.value) }

    /// `{"KIND": RESULT}`.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: NamedKey.self)
        try value.encode(into: &container, key: NamedKey(stringValue: type(of: value).resultKind))
    }

    /// Decodes the result type that `KIND` names in the registry.
    package init(from decoder: any Decoder) throws {
        let (container, key) = try NamedKey.single(in: decoder, "a result")
        guard let type = WorkloadRegistry.resultType(named: key.stringValue) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container, debugDescription: "unknown result '\(key.stringValue)'")
        }
        value = try type.decode(from: container, key: key)
    }
}

extension WorkloadResult {
    fileprivate func isEqual(_ other: any WorkloadResult) -> Bool { (other as? Self) == self }

    fileprivate func encode<K: CodingKey>(into container: inout KeyedEncodingContainer<K>, key: K) throws {
        try container.encode(self, forKey: key)
    }

    fileprivate static func decode<K: CodingKey>(from container: KeyedDecodingContainer<K>, key: K) throws
        -> any WorkloadResult
    {
        try container.decode(Self.self, forKey: key)
    }

    fileprivate func mergedWith(_ all: [any WorkloadResult]) -> SideOutcome? {
        let same = all.compactMap { $0 as? Self }
        guard same.count == all.count, let merged = Self.merged(same) else { return nil }
        return SideOutcome(merged)
    }
}

extension WorkloadType {
    fileprivate static func expectedResult(_ spec: any WorkloadSpec, role: Role) -> (any WorkloadResult.Type)? {
        (spec as? Spec).flatMap { resultType(of: $0, role: role) }
    }
}

/// What every load generator reports about its own threads.
package struct LoadThreads: Codable, Equatable, Sendable {
    /// Worker threads that ran the load.
    package var threads: Int
    /// CPU time of those threads over the window, seconds (CLOCK_THREAD_CPUTIME_ID).
    package var cpuSeconds: Double
    /// Open loop: requests intended inside the window that left more than ``OpenLoop/lateNs`` after
    /// their intended time, or not at all; `nil` in closed loop.
    package var lateRequests: UInt64?
    /// Each worker thread's CPU time over the window, seconds (the generator-headroom check reads the
    /// busiest); `nil` from agents before 0.9.
    package var threadCPUSeconds: [Double]?
    /// The first worker thread's latencies in send order at fixed ticks (the independence check).
    package var latencySeries: LatencySeries?
    /// Open loop: the first worker thread's gaps between consecutive sends inside the window,
    /// microseconds, at most ``LoadThreads/maxGaps`` (the arrivals check).
    package var sendGapsUs: [Float]?
    /// The CPUs each worker thread was seen running on through the window (sampled once per
    /// millisecond tick): where the generator really ran.
    package var threadCPUs: [[Int]]?

    /// Send gaps kept per step.
    package static let maxGaps = 4096

    package init(
        threads: Int, cpuSeconds: Double, lateRequests: UInt64? = nil, threadCPUSeconds: [Double]? = nil,
        latencySeries: LatencySeries? = nil, sendGapsUs: [Float]? = nil, threadCPUs: [[Int]]? = nil
    ) {
        self.threads = threads
        self.cpuSeconds = cpuSeconds
        self.lateRequests = lateRequests
        self.threadCPUSeconds = threadCPUSeconds
        self.latencySeries = latencySeries
        self.sendGapsUs = sendGapsUs
        self.threadCPUs = threadCPUs
    }

    /// Several generators' threads as one: counts, CPU and late requests add, the threads' CPU
    /// times are listed together, the first generator's series and gaps stand for all.
    package static func merged(_ loads: [LoadThreads]) -> LoadThreads {
        let late = loads.compactMap(\.lateRequests)
        let perThread = loads.compactMap(\.threadCPUSeconds)
        let placed = loads.compactMap(\.threadCPUs)
        return LoadThreads(
            threads: loads.map(\.threads).reduce(0, +), cpuSeconds: loads.map(\.cpuSeconds).reduce(0, +),
            lateRequests: late.isEmpty ? nil : late.reduce(0, +),
            threadCPUSeconds: perThread.count == loads.count ? perThread.flatMap { $0 } : nil,
            latencySeries: loads.lazy.compactMap(\.latencySeries).first,
            sendGapsUs: loads.lazy.compactMap(\.sendGapsUs).first,
            threadCPUs: placed.count == loads.count ? placed.flatMap { $0 } : nil)
    }
}

/// What the `host` agent measured besides the machine's CPU.
package struct HostMeterResult: Codable, Equatable, Sendable {
    /// netns-nat: packets its DNAT rules translated during the step, by hook: `prerouting` for traffic
    /// from other hosts, `output` for this host's own; `nil` in modes without lockstep's rules.
    package var natPackets: NATPackets?

    package init(natPackets: NATPackets? = nil) { self.natPackets = natPackets }
}

extension HostMeterResult: WorkloadResult {
    /// The result's name on the wire.
    package static let resultKind = "hostMeter"
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
