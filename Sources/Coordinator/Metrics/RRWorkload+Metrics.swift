import Foundation
import Histogram
import Shared

/// TCP_RR / UDP_RR: transactions per second and round-trip latency, from the peer's ``RRClientResult``.
extension RRWorkload: GeneratorMetrics {
    typealias Client = RRClientResult

    static func rows(_ o: StepOutcome, labels: [String: String]) -> [MetricSample] {
        guard let r = client(o) else { return [] }
        let seconds = o.windowSeconds
        return [
            transactionsPerSec.sample(Double(r.transactions) / seconds, labels),
            transactions.sample(Double(r.transactions), labels),
        ]
            + latency.rows(r.latency.histogram(), labels: labels)
            + [
                lostTransactions.sample(Double(r.lost), labels),
                clientCPUPerKtx.sample(r.load.cpuSeconds / max(Double(r.transactions) / 1000, 1e-9), labels),
                CommonMetrics.window.sample(seconds, labels),
            ]
    }

    static let columns: [SummaryColumn] = [
        .step,
        column("test") { "\($0.proto.rawValue.uppercased())_RR" },
        column("req/resp") { "\($0.requestSize)/\($0.responseSize)" },
        column("flows") { String($0.flows) },
        .metric("trans/s", transactionsPerSec, "%.0f"), .metric("mean us", latency.mean),
        .metric("p50 us", latency.percentiles[0].metric), .metric("p99 us", latency.percentiles[2].metric),
        .metric("p99.9 us", latency.percentiles[3].metric), .metric("lost", lostTransactions, "%.0f"),
        .sutCPU, .skew,
    ]

    static let figures: [FigureSpec] = [
        .bars(
            .init(
                id: "rr-latency", title: "Request/response: mean round-trip latency",
                caption:
                    "Mean round-trip time per mode (netperf TCP_RR/UDP_RR; the paper's Fig. 3). Whiskers: the mean's confidence interval over repetitions.",
                point: point, charts: [.init("Mean round-trip latency", yLabel: "latency (us)", latency.mean)],
                table: [latency.mean, latency.percentiles[2].metric, transactionsPerSec])),
        .percentiles(
            .init(
                id: "rr-percentiles", title: "Request/response: latency distribution",
                caption:
                    "Each mode's round-trip latency by percentile, HdrHistogram style (the first repetition's histogram of each cell), on a logarithmic latency axis.",
                point: point)),
    ]

    @Sendable private static func point(_ workload: Workload) -> String {
        guard let s = workload.spec(RRSpec.self) else { return "" }
        return "\(s.proto.rawValue.uppercased())_RR \(s.requestSize)/\(s.responseSize), \(s.flows) flow(s)"
    }

    static var options: (any WorkloadOptions.Type)? { RROptions.self }
}
