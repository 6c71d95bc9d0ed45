import Foundation
import Histogram
import Shared

/// The MySQL sweep: transactions and queries per second, latency, errors and the generator's CPU
/// per thousand transactions, from the peer's ``MySQLClientResult`` and the SUT's ``MySQLServerResult``.
enum MySQLMetrics: WorkloadMetrics {
    static func client(_ o: StepOutcome) -> MySQLClientResult? {
        if case .mysqlClient(let r) = o.peer.result.outcome { r } else { nil }
    }

    static func rows(_ o: StepOutcome, labels: [String: String]) -> [MetricSample] {
        guard let r = client(o) else { return [] }
        let seconds = o.windowSeconds
        func row(_ metric: String, _ value: Double, _ unit: String) -> MetricSample {
            MetricSample(metric: metric, value: value, unit: unit, labels: labels)
        }
        var out = [
            row("transactions_per_sec", Double(r.transactions) / seconds, "tx/s"),
            row("queries_per_sec", Double(r.queries) / seconds, "queries/s"),
        ]
        out += LatencyRows.rows(
            r.latency.histogram(), unit: "ms", percentiles: [("p50", 50), ("p95", 95), ("p99", 99)], labels: labels)
        out += [
            row("errors", Double(r.errors), "errors"),
            row("deadlocks", Double(r.deadlocks), "errors"),
            row("reconnects", Double(r.reconnects), "connections"),
            row("rows_read", Double(r.rowsRead), "rows"),
            row("window_seconds", seconds, "s"),
        ]
        if r.transactions > 0 {
            out.append(row("client_cpu_seconds_per_ktx", r.load.cpuSeconds / (Double(r.transactions) / 1000), "s/ktx"))
        }
        if case .mysqlServer(let s) = o.sut.result.outcome {
            if let rows = s.rowsAfter { out.append(row("mysql_rows_after", Double(rows), "rows")) }
            out.append(row("mysql_load_seconds", s.loadSeconds, "s"))
            if let direct = s.oDirect { out.append(row("mysql_o_direct", direct ? 1 : 0, "bool")) }
        }
        return out
    }

    static let columns: [SummaryColumn] = [
        .step,
        .text("transaction") {
            guard case .mysql(let s) = $0.workload else { return "-" }
            return s.mode.rawValue
        },
        .text("threads") {
            guard case .mysql(let s) = $0.workload else { return "-" }
            return String(s.threads)
        },
        .metric("tx/s", "transactions_per_sec"), .metric("queries/s", "queries_per_sec", "%.0f"),
        .metric("mean ms", "latency_mean_ms", "%.2f"), .metric("p95 ms", "latency_p95_ms", "%.2f"),
        .metric("p99 ms", "latency_p99_ms", "%.2f"), .metric("errors", "errors", "%.0f"),
        .metric("deadlocks", "deadlocks", "%.0f"), .metric("reconnects", "reconnects", "%.0f"),
        .metric("SUT cpu%", "sut_cpu_util_pct"), .metric("client cpu s/ktx", "client_cpu_seconds_per_ktx", "%.3f"),
    ]

    static func latency(_ o: StepOutcome) -> Histogram<UInt64>? { client(o)?.latency.histogram() }

    static let headline = ["transactions_per_sec", "latency_mean_ms", "sut_cpu_us_per_op", "host_cpu_us_per_op"]
}
