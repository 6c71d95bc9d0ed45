import Foundation
import Histogram
import Shared

/// The Redis sweep: operations per second, latency, hit rate and the generator's CPU per operation,
/// from the peer's ``RedisClientResult`` and the SUT's ``RedisServerResult``.
extension RedisWorkload: GeneratorMetrics {
    typealias Client = RedisClientResult

    static func server(_ o: StepOutcome) -> RedisServerResult? { o.sut.result.outcome.as(RedisServerResult.self) }

    static func rows(_ o: StepOutcome, labels: [String: String]) -> [MetricSample] {
        guard let r = client(o) else { return [] }
        let perSecond = 1 / o.windowSeconds
        let counts: [(Metric, UInt64)] = [
            (errors, r.errors), (valueMismatches, r.valueMismatches), (hits, r.hits), (misses, r.misses),
            (keys, r.keys),
        ]
        var out = [
            opsPerSec.sample(Double(r.operations) * perSecond, labels),
            getOpsPerSec.sample(Double(r.gets) * perSecond, labels),
            setOpsPerSec.sample(Double(r.sets) * perSecond, labels),
        ]
        out += latency.rows(r.latency.histogram(), labels: labels)
        out += CommonMetrics.openLoopRows(r.load, o, labels: labels)
        out += counts.map { $0.0.sample(Double($0.1), labels) }
        out += [
            clientThreads.sample(Double(r.load.threads), labels), CommonMetrics.window.sample(o.windowSeconds, labels),
        ]
        if r.hits + r.misses > 0 { out.append(hitPct.sample(100 * Double(r.hits) / Double(r.hits + r.misses), labels)) }
        if let keys = server(o)?.keys { out.append(serverKeys.sample(Double(keys), labels)) }
        if let memory = server(o)?.usedMemoryBytes { out.append(usedMemory.sample(memory, labels)) }
        if r.operations > 0 {
            out.append(clientCPUPerMop.sample(r.load.cpuSeconds / (Double(r.operations) / 1e6), labels))
        }
        return out
    }

    static let columns: [SummaryColumn] = [
        .step,
        column("conns") { String($0.connections) },
        column("pipeline") { String($0.pipeline) },
        .metric("ops/s", opsPerSec, "%.0f"), .metric("GET/s", getOpsPerSec, "%.0f"),
        .metric("SET/s", setOpsPerSec, "%.0f"), .metric("mean us", latency.mean),
        .metric("p50 us", latency.percentiles[0].metric), .metric("p99 us", latency.percentiles[1].metric),
        .metric("p99.9 us", latency.percentiles[2].metric), .metric("errors", errors, "%.0f"),
        .metric("hit%", hitPct), .metric("keys", keys, "%.0f"),
        .metric("redis MiB", usedMemory, scale: 1_048_576), .sutCPU,
        .metric("client cpu s/Mop", clientCPUPerMop, "%.3f"),
    ]

    static let figures: [FigureSpec] = [
        .rateAndLatency(
            id: "redis", title: "Redis: throughput and latency against connections",
            caption:
                "redis-server on the SUT, GET/SET from the peers (the paper's Figs. 8-9); bands: the confidence interval over repetitions.",
            x: "connections", rate: opsPerSec, rateLabel: "operations/s", latency: latency.mean),
        .latencyAgainstLoad(
            id: "redis-open-loop", title: "Redis: latency against offered load", rate: opsPerSec, latency: latency),
    ]

    static var options: (any WorkloadOptions.Type)? { RedisOptions.self }
}
