import Foundation
import Shared

extension StepOutcome {
    /// Redis: one of the peer's counters (0 if absent).
    func peerCounter(_ name: String) -> Double { peer.counters?[name] ?? 0 }

    /// Redis: operations per second in the window.
    var operationsPerSecond: Double { Double(peer.transactions) / windowSeconds }

    /// Redis: the generator's CPU seconds per million operations in the window.
    var clientCPUSecondsPerMop: Double? {
        guard peer.transactions > 0, let cpu = peer.counters?["client_cpu_seconds"] else { return nil }
        return cpu / (Double(peer.transactions) / 1e6)
    }

    /// Redis: the summary metrics of one sweep point (CPU comes from the common samples).
    func redisSamples(_ spec: RedisSpec, labels: [String: String]) -> [MetricSample] {
        let h = latency
        func us(_ ns: UInt64) -> Double { Double(ns) / 1000 }
        func sample(_ metric: String, _ value: Double, _ unit: String) -> MetricSample {
            MetricSample(metric: metric, value: value, unit: unit, labels: labels)
        }
        var out = [
            sample("ops_per_sec", operationsPerSecond, "ops/s"),
            sample("get_ops_per_sec", peerCounter("get_ops") / windowSeconds, "ops/s"),
            sample("set_ops_per_sec", peerCounter("set_ops") / windowSeconds, "ops/s"),
            sample("latency_mean_us", h.totalCount > 0 ? h.mean / 1000 : 0, "us"),
            sample("latency_p50_us", us(h.valueAtPercentile(50)), "us"),
            sample("latency_p99_us", us(h.valueAtPercentile(99)), "us"),
            sample("latency_p999_us", us(h.valueAtPercentile(99.9)), "us"),
            sample("latency_max_us", us(h.max), "us"),
            sample("errors", peerCounter("errors"), "replies"),
            sample("value_mismatches", peerCounter("value_mismatches"), "replies"),
            sample("hits", peerCounter("hits"), "replies"),
            sample("misses", peerCounter("misses"), "replies"),
            sample("keys", peerCounter("keys"), "keys"),
            sample("client_threads", peerCounter("threads"), "threads"),
            sample("window_seconds", windowSeconds, "s"),
        ]
        if let keys = sut.counters?["redis_keys"] { out.append(sample("redis_keys", keys, "keys")) }
        if let memory = sut.counters?["redis_used_memory_bytes"] {
            out.append(sample("redis_used_memory_bytes", memory, "bytes"))
        }
        if let perMop = clientCPUSecondsPerMop {
            out.append(sample("client_cpu_seconds_per_mop", perMop, "s/Mop"))
        }
        return out
    }
}
