import Foundation
import Histogram
import Shared

/// The MySQL sweep: transactions and queries per second, latency, errors and the generator's CPU
/// per thousand transactions, from the peer's ``MySQLClientResult`` and the SUT's ``MySQLServerResult``.
extension MySQLWorkload: GeneratorMetrics {
    typealias Client = MySQLClientResult

    static func rows(_ o: StepOutcome, labels: [String: String]) -> [MetricSample] {
        guard let r = client(o) else { return [] }
        let seconds = o.windowSeconds
        var out = [
            transactionsPerSec.sample(Double(r.transactions) / seconds, labels),
            queriesPerSec.sample(Double(r.queries) / seconds, labels),
        ]
        out += latency.rows(r.latency.histogram(), labels: labels)
        out += CommonMetrics.openLoopRows(r.load, o, labels: labels)
        let counts: [(Metric, UInt64)] = [
            (errors, r.errors), (deadlocks, r.deadlocks), (reconnects, r.reconnects), (rowsRead, r.rowsRead),
        ]
        out += counts.map { $0.0.sample(Double($0.1), labels) } + [CommonMetrics.window.sample(seconds, labels)]
        if r.transactions > 0 {
            out.append(clientCPUPerKtx.sample(r.load.cpuSeconds / (Double(r.transactions) / 1000), labels))
        }
        if let s = o.sut.result.outcome.as(MySQLServerResult.self) {
            if let rows = s.rowsAfter { out.append(rowsAfter.sample(Double(rows), labels)) }
            out.append(loadSeconds.sample(s.loadSeconds, labels))
            if let direct = s.oDirect { out.append(oDirect.sample(direct ? 1 : 0, labels)) }
        }
        return out
    }

    static let columns: [SummaryColumn] = [
        .step,
        column("transaction") { $0.mode.rawValue },
        column("threads") { String($0.threads) },
        .metric("tx/s", transactionsPerSec), .metric("queries/s", queriesPerSec, "%.0f"),
        .metric("mean ms", latency.mean, "%.2f"), .metric("p95 ms", latency.percentiles[1].metric, "%.2f"),
        .metric("p99 ms", latency.percentiles[2].metric, "%.2f"), .metric("errors", errors, "%.0f"),
        .metric("deadlocks", deadlocks, "%.0f"), .metric("reconnects", reconnects, "%.0f"), .sutCPU,
        .metric("client cpu s/ktx", clientCPUPerKtx, "%.3f"),
    ]

    static let figures: [FigureSpec] = [
        .rateAndLatency(
            id: "mysql", title: "MySQL: transactions and latency against threads",
            caption:
                "sysbench-style OLTP against MariaDB on the SUT (the paper's Figs. 10-12); bands: the confidence interval over repetitions.",
            x: "threads", rate: transactionsPerSec, rateLabel: "transactions/s", latency: latency.mean),
        .latencyAgainstLoad(
            id: "mysql-open-loop", title: "MySQL: latency against offered load", rate: transactionsPerSec,
            latency: latency),
    ]

    static var options: (any WorkloadOptions.Type)? { MySQLOptions.self }
}
