import Foundation
import Histogram
import Shared

/// The Redis sweep: operations per second, latency, hit rate and the generator's CPU per operation,
/// from the peer's ``RedisClientResult`` and the SUT's ``RedisServerResult``.
enum RedisMetrics: WorkloadMetrics {
    static func client(_ o: StepOutcome) -> RedisClientResult? {
        if case .redisClient(let r) = o.peer.result.outcome { r } else { nil }
    }

    static func server(_ o: StepOutcome) -> RedisServerResult? {
        if case .redisServer(let r) = o.sut.result.outcome { r } else { nil }
    }

    static func rows(_ o: StepOutcome, labels: [String: String]) -> [MetricSample] {
        guard let r = client(o) else { return [] }
        let seconds = o.windowSeconds
        func row(_ metric: String, _ value: Double, _ unit: String) -> MetricSample {
            MetricSample(metric: metric, value: value, unit: unit, labels: labels)
        }
        var out = [
            row("ops_per_sec", Double(r.operations) / seconds, "ops/s"),
            row("get_ops_per_sec", Double(r.gets) / seconds, "ops/s"),
            row("set_ops_per_sec", Double(r.sets) / seconds, "ops/s"),
        ]
        out += LatencyRows.rows(
            r.latency.histogram(), unit: "us", percentiles: [("p50", 50), ("p99", 99), ("p999", 99.9)], labels: labels)
        out += [
            row("errors", Double(r.errors), "replies"),
            row("value_mismatches", Double(r.valueMismatches), "replies"),
            row("hits", Double(r.hits), "replies"),
            row("misses", Double(r.misses), "replies"),
            row("keys", Double(r.keys), "keys"),
            row("client_threads", Double(r.load.threads), "threads"),
            row("window_seconds", seconds, "s"),
        ]
        if r.hits + r.misses > 0 { out.append(row("hit_pct", 100 * Double(r.hits) / Double(r.hits + r.misses), "%")) }
        if let keys = server(o)?.keys { out.append(row("redis_keys", Double(keys), "keys")) }
        if let memory = server(o)?.usedMemoryBytes { out.append(row("redis_used_memory_bytes", memory, "bytes")) }
        if r.operations > 0 {
            out.append(row("client_cpu_seconds_per_mop", r.load.cpuSeconds / (Double(r.operations) / 1e6), "s/Mop"))
        }
        return out
    }

    static let columns: [SummaryColumn] = [
        .step,
        .text("conns") {
            guard case .redis(let s) = $0.workload else { return "-" }
            return String(s.connections)
        },
        .text("pipeline") {
            guard case .redis(let s) = $0.workload else { return "-" }
            return String(s.pipeline)
        },
        .metric("ops/s", "ops_per_sec", "%.0f"), .metric("GET/s", "get_ops_per_sec", "%.0f"),
        .metric("SET/s", "set_ops_per_sec", "%.0f"), .metric("mean us", "latency_mean_us"),
        .metric("p50 us", "latency_p50_us"), .metric("p99 us", "latency_p99_us"),
        .metric("p99.9 us", "latency_p999_us"), .metric("errors", "errors", "%.0f"), .metric("hit%", "hit_pct"),
        .metric("keys", "keys", "%.0f"), .metric("redis MiB", "redis_used_memory_bytes", scale: 1_048_576),
        .metric("SUT cpu%", "sut_cpu_util_pct"), .metric("client cpu s/Mop", "client_cpu_seconds_per_mop", "%.3f"),
    ]

    static func latency(_ o: StepOutcome) -> Histogram<UInt64>? { client(o)?.latency.histogram() }

    static let headline = ["ops_per_sec", "latency_mean_us", "sut_cpu_us_per_op", "host_cpu_us_per_op"]
}
