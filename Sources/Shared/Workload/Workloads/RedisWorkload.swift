/// The Redis sweep point: one redis-server on the SUT, GET/SET load from the peers, who split the
/// connections, the generator threads and the key space.
package enum RedisWorkload: WorkloadType {
    /// The workload's parameters.
    package typealias Spec = RedisSpec

    /// Who takes part and how the window ends.
    package static let shape = WorkloadShape.clientServer(guestPortSlot: 3)

    /// GETs and SETs answered per second.
    package static let opsPerSec = Metric(
        "ops_per_sec", unit: "ops/s", kind: .gauge, better: .higher, help: "GETs and SETs answered per second")
    /// GETs answered per second.
    package static let getOpsPerSec = Metric(
        "get_ops_per_sec", unit: "ops/s", kind: .gauge, better: .higher, help: "GETs answered per second")
    /// SETs answered per second.
    package static let setOpsPerSec = Metric(
        "set_ops_per_sec", unit: "ops/s", kind: .gauge, better: .higher, help: "SETs answered per second")
    /// Latency from its histogram: mean, percentiles, maximum.
    package static let latency = LatencyMetrics(
        unit: "us", percentiles: [("p50", 50), ("p99", 99), ("p999", 99.9)], of: "a request's reply")
    /// Error replies.
    package static let errors = Metric(
        "errors", unit: "replies", kind: .counter, better: .lower, help: "error replies")
    /// GET hits whose value differed from what the SET wrote.
    package static let valueMismatches = Metric(
        "value_mismatches", unit: "replies", kind: .counter, better: .lower,
        help: "GET hits whose value differed from what the SET wrote")
    /// GETs that found their key.
    package static let hits = Metric(
        "hits", unit: "replies", kind: .counter, better: .neither, help: "GETs that found their key")
    /// GETs that found no key.
    package static let misses = Metric(
        "misses", unit: "replies", kind: .counter, better: .neither, help: "GETs that found no key")
    /// Distinct keys the sequence created.
    package static let keys = Metric(
        "keys", unit: "keys", kind: .counter, better: .neither, help: "distinct keys the sequence created")
    /// Generator threads.
    package static let clientThreads = Metric(
        "client_threads", unit: "threads", kind: .gauge, better: .neither, help: "generator threads")
    /// Share of GETs that found their key.
    package static let hitPct = Metric(
        "hit_pct", unit: "%", kind: .gauge, better: .neither, help: "share of GETs that found their key")
    /// DBSIZE when the step stopped.
    package static let serverKeys = Metric(
        "redis_keys", unit: "keys", kind: .gauge, better: .neither, help: "DBSIZE when the step stopped")
    /// INFO memory used_memory when the step stopped.
    package static let usedMemory = Metric(
        "redis_used_memory_bytes", unit: "bytes", kind: .gauge, better: .lower,
        help: "INFO memory used_memory when the step stopped")
    /// The generator threads' CPU time per million operations.
    package static let clientCPUPerMop = Metric(
        "client_cpu_seconds_per_mop", unit: "s/Mop", kind: .gauge, better: .lower,
        help: "the generator threads' CPU time per million operations")

    /// Every metric it reports, and its headline.
    package static let catalog = MetricCatalog(
        [opsPerSec, getOpsPerSec, setOpsPerSec] + latency.all
            + [
                errors, valueMismatches, hits, misses, keys, clientThreads, CommonMetrics.window, hitPct, serverKeys,
                usedMemory, clientCPUPerMop,
            ] + CommonMetrics.openLoop,
        headline: [opsPerSec, latency.mean, CommonMetrics.sutCPUPerOp, CommonMetrics.hostCPUPerOp])

    /// The results its sides report.
    package static let resultTypes: [any WorkloadResult.Type] = [RedisClientResult.self, RedisServerResult.self]

    /// The result the agent in `role` reports.
    package static func resultType(of spec: RedisSpec, role: Role) -> (any WorkloadResult.Type)? {
        role == .peer ? RedisClientResult.self : RedisServerResult.self
    }

    /// What the peers split.
    package static func loadUnits(of spec: RedisSpec) -> Int { spec.connections }

    /// Generator threads and the key cap given in total split like the connections (at least one
    /// each); each share names its own slice of the key space.
    package static func share(of spec: RedisSpec, units: Int, part: Int, of n: Int) -> RedisSpec {
        var s = spec
        s.connections = units
        s.threads = s.threads.map { min(max(1, $0 / n + (part < $0 % n ? 1 : 0)), units) }
        s.keys = s.keys.map { max(1, $0 / n + (part < $0 % n ? 1 : 0)) }
        s.partition = KeyPartition(index: part, count: n)
        s.rate = OpenLoop.share(spec.rate, units: units, of: spec.connections)
        return s
    }
}

extension RedisClientResult: WorkloadResult {
    /// Its threads, for the validity checks.
    package var generatorLoad: LoadThreads? { load }
    /// The result's name on the wire.
    package static let resultKind = "redisClient"
    /// Operations it completed in the window.
    package var completions: UInt64? { operations }

    /// Several peers' results as one.
    package static func merged(_ all: [RedisClientResult]) -> RedisClientResult? {
        func sum(_ key: KeyPath<RedisClientResult, UInt64>) -> UInt64 { all.map { $0[keyPath: key] }.reduce(0, +) }
        return RedisClientResult(
            operations: sum(\.operations), latency: .merged(all.map(\.latency)), gets: sum(\.gets), sets: sum(\.sets),
            hits: sum(\.hits), misses: sum(\.misses), errors: sum(\.errors), valueMismatches: sum(\.valueMismatches),
            keys: sum(\.keys), load: .merged(all.map(\.load)))
    }
}

extension RedisServerResult: WorkloadResult {
    /// The result's name on the wire.
    package static let resultKind = "redisServer"
}
