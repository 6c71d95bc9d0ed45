import Foundation
import Histogram
import Shared

/// TCP_RR / UDP_RR: transactions per second and round-trip latency, from the peer's ``RRClientResult``.
enum RRMetrics: WorkloadMetrics {
    static func client(_ o: StepOutcome) -> RRClientResult? {
        if case .rrClient(let r) = o.peer.result.outcome { r } else { nil }
    }

    static func rows(_ o: StepOutcome, labels: [String: String]) -> [MetricSample] {
        guard let r = client(o) else { return [] }
        let seconds = o.windowSeconds
        func row(_ metric: String, _ value: Double, _ unit: String) -> MetricSample {
            MetricSample(metric: metric, value: value, unit: unit, labels: labels)
        }
        return [
            row("transactions_per_sec", Double(r.transactions) / seconds, "transactions/s"),
            row("transactions", Double(r.transactions), "transactions"),
        ]
            + LatencyRows.rows(
                r.latency.histogram(), unit: "us",
                percentiles: [("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9)], labels: labels)
            + [
                row("lost_transactions", Double(r.lost), "transactions"),
                row(
                    "client_cpu_seconds_per_ktx", r.load.cpuSeconds / max(Double(r.transactions) / 1000, 1e-9), "s/ktx"),
                row("window_seconds", seconds, "s"),
            ]
    }

    static let columns: [SummaryColumn] = [
        .step,
        .text("test") {
            guard case .rr(let s) = $0.workload else { return "-" }
            return "\(s.proto.rawValue.uppercased())_RR"
        },
        .text("req/resp") {
            guard case .rr(let s) = $0.workload else { return "-" }
            return "\(s.requestSize)/\(s.responseSize)"
        },
        .text("flows") {
            guard case .rr(let s) = $0.workload else { return "-" }
            return String(s.flows)
        },
        .metric("trans/s", "transactions_per_sec", "%.0f"), .metric("mean us", "latency_mean_us"),
        .metric("p50 us", "latency_p50_us"), .metric("p99 us", "latency_p99_us"),
        .metric("p99.9 us", "latency_p999_us"), .metric("lost", "lost_transactions", "%.0f"),
        .metric("SUT cpu%", "sut_cpu_util_pct"), .metric("skew us", "start_skew_us", "%.0f"),
    ]

    static func latency(_ o: StepOutcome) -> Histogram<UInt64>? { client(o)?.latency.histogram() }

    static let headline = ["latency_mean_us", "transactions_per_sec", "sut_cpu_us_per_op", "host_cpu_us_per_op"]
}
