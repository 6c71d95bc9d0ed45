import Foundation
import Shared

extension StepOutcome {
    /// MySQL: the summary metrics of one sweep point (CPU comes from the common samples).
    func mysqlSamples(_ spec: MySQLSpec, labels: [String: String]) -> [MetricSample] {
        let h = latency
        func ms(_ ns: UInt64) -> Double { Double(ns) / 1e6 }
        func sample(_ metric: String, _ value: Double, _ unit: String) -> MetricSample {
            MetricSample(metric: metric, value: value, unit: unit, labels: labels)
        }
        var out = [
            sample("transactions_per_sec", Double(peer.transactions) / windowSeconds, "tx/s"),
            sample("queries_per_sec", peerCounter("queries") / windowSeconds, "queries/s"),
            sample("latency_mean_ms", h.totalCount > 0 ? h.mean / 1e6 : 0, "ms"),
            sample("latency_p50_ms", ms(h.valueAtPercentile(50)), "ms"),
            sample("latency_p95_ms", ms(h.valueAtPercentile(95)), "ms"),
            sample("latency_p99_ms", ms(h.valueAtPercentile(99)), "ms"),
            sample("latency_max_ms", ms(h.max), "ms"),
            sample("errors", peerCounter("errors"), "errors"),
            sample("deadlocks", peerCounter("deadlocks"), "errors"),
            sample("reconnects", peerCounter("reconnects"), "connections"),
            sample("rows_read", peerCounter("rows_read"), "rows"),
            sample("window_seconds", windowSeconds, "s"),
        ]
        if peer.transactions > 0, let cpu = peer.counters?["client_cpu_seconds"] {
            out.append(
                sample("client_cpu_seconds_per_ktx", cpu / (Double(peer.transactions) / 1000), "s/ktx"))
        }
        for (counter, metric, unit) in [
            ("mysql_rows", "mysql_rows_after", "rows"), ("mysql_load_seconds", "mysql_load_seconds", "s"),
            ("mysql_o_direct", "mysql_o_direct", "bool"),
        ] {
            if let v = sut.counters?[counter] { out.append(sample(metric, v, unit)) }
        }
        return out
    }
}
