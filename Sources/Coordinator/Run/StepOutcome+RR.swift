import Foundation
import Histogram
import Shared

extension StepOutcome {
    /// RR: the peer's interval samples.
    var intervals: [IntervalSample] { intervalsByRole[.peer] ?? [] }

    /// RR and Redis: the peer's merged latency histogram, nanoseconds.
    var latency: Histogram<UInt64> { peer.latency?.histogram() ?? HistogramSnapshot.makeLatencyHistogram() }

    /// Length of the peer's measurement window, on its own clock (no cross-host error).
    var windowSeconds: Double { Double(max(peer.windowEndNs - peer.windowStartNs, 1)) / 1e9 }

    /// RR: transactions per second in the window.
    var transactionsPerSecond: Double { Double(peer.transactions) / windowSeconds }

    /// RR: the summary metrics.
    func rrSamples(_ spec: RRSpec, labels: [String: String]) -> [MetricSample] {
        let h = latency
        func us(_ ns: UInt64) -> Double { Double(ns) / 1000 }
        return [
            MetricSample(
                metric: "transactions_per_sec", value: transactionsPerSecond, unit: "transactions/s", labels: labels),
            MetricSample(
                metric: "transactions", value: Double(peer.transactions), unit: "transactions", labels: labels),
            MetricSample(
                metric: "latency_mean_us", value: h.totalCount > 0 ? h.mean / 1000 : 0, unit: "us", labels: labels),
            MetricSample(metric: "latency_p50_us", value: us(h.valueAtPercentile(50)), unit: "us", labels: labels),
            MetricSample(metric: "latency_p90_us", value: us(h.valueAtPercentile(90)), unit: "us", labels: labels),
            MetricSample(metric: "latency_p99_us", value: us(h.valueAtPercentile(99)), unit: "us", labels: labels),
            MetricSample(metric: "latency_p999_us", value: us(h.valueAtPercentile(99.9)), unit: "us", labels: labels),
            MetricSample(metric: "latency_max_us", value: us(h.max), unit: "us", labels: labels),
            MetricSample(metric: "lost_transactions", value: Double(peer.lost), unit: "transactions", labels: labels),
            MetricSample(metric: "window_seconds", value: windowSeconds, unit: "s", labels: labels),
        ]
    }

    /// The HdrHistogram percentile distribution in microseconds, for workloads with a latency
    /// histogram (RR, Redis); `nil` for others.
    var hgrm: String? {
        guard peer.latency != nil else { return nil }
        var text = ""
        latency.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1000)
        return text
    }
}
