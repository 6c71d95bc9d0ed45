/// The MySQL sweep point: MariaDB/MySQL on the SUT, sysbench-style OLTP clients on the peers, who
/// split the threads.
package enum MySQLWorkload: WorkloadType {
    /// The workload's parameters.
    package typealias Spec = MySQLSpec

    /// Who takes part and how the window ends.
    package static let shape: WorkloadShape = {
        var shape = WorkloadShape.clientServer(guestPortSlot: 4)
        shape.usesStorage = true
        return shape
    }()

    /// OLTP transactions committed per second in the window.
    package static let transactionsPerSec = Metric(
        "transactions_per_sec", unit: "tx/s", kind: .gauge, better: .higher,
        help: "OLTP transactions committed per second in the window")
    /// Statements sent per second.
    package static let queriesPerSec = Metric(
        "queries_per_sec", unit: "queries/s", kind: .gauge, better: .higher, help: "statements sent per second")
    /// Latency from its histogram: mean, percentiles, maximum.
    package static let latency = LatencyMetrics(
        unit: "ms", percentiles: [("p50", 50), ("p95", 95), ("p99", 99)], of: "a transaction")
    /// Error answers, retried ones included.
    package static let errors = Metric(
        "errors", unit: "errors", kind: .counter, better: .lower, help: "error answers, retried ones included")
    /// Deadlocks, lock timeouts and record-changed errors (retried).
    package static let deadlocks = Metric(
        "deadlocks", unit: "errors", kind: .counter, better: .lower,
        help: "deadlocks, lock timeouts and record-changed errors (retried)")
    /// Lost connections reopened.
    package static let reconnects = Metric(
        "reconnects", unit: "connections", kind: .counter, better: .lower, help: "lost connections reopened")
    /// Rows the reads returned.
    package static let rowsRead = Metric(
        "rows_read", unit: "rows", kind: .counter, better: .neither, help: "rows the reads returned")
    /// The client threads' CPU time per thousand transactions.
    package static let clientCPUPerKtx = Metric(
        "client_cpu_seconds_per_ktx", unit: "s/ktx", kind: .gauge, better: .lower,
        help: "the client threads' CPU time per thousand transactions")
    /// Rows in the tables after the step.
    package static let rowsAfter = Metric(
        "mysql_rows_after", unit: "rows", kind: .gauge, better: .neither, help: "rows in the tables after the step")
    /// Time prepare spent loading the tables.
    package static let loadSeconds = Metric(
        "mysql_load_seconds", unit: "s", kind: .gauge, better: .neither, help: "time prepare spent loading the tables")
    /// Whether the server kept O_DIRECT.
    package static let oDirect = Metric(
        "mysql_o_direct", unit: "bool", kind: .gauge, better: .neither, help: "whether the server kept O_DIRECT")

    /// Every metric it reports, and its headline.
    package static let catalog = MetricCatalog(
        [transactionsPerSec, queriesPerSec] + latency.all
            + [
                errors, deadlocks, reconnects, rowsRead, CommonMetrics.window, clientCPUPerKtx, rowsAfter, loadSeconds,
                oDirect,
            ] + CommonMetrics.openLoop,
        headline: [transactionsPerSec, latency.mean, CommonMetrics.sutCPUPerOp, CommonMetrics.hostCPUPerOp])

    /// The results its sides report.
    package static let resultTypes: [any WorkloadResult.Type] = [MySQLClientResult.self, MySQLServerResult.self]

    /// The result the agent in `role` reports.
    package static func resultType(of spec: MySQLSpec, role: Role) -> (any WorkloadResult.Type)? {
        role == .peer ? MySQLClientResult.self : MySQLServerResult.self
    }

    /// What the peers split.
    package static func loadUnits(of spec: MySQLSpec) -> Int { spec.threads }

    /// A peer's share of the load: `units` of it.
    package static func share(of spec: MySQLSpec, units: Int, part: Int, of count: Int) -> MySQLSpec {
        var s = spec
        s.threads = units
        s.rate = OpenLoop.share(spec.rate, units: units, of: spec.threads)
        return s
    }

    /// The table scaled, at least 1,000 rows (or the table's size if smaller).
    package static func scaled(_ spec: MySQLSpec, by factor: Double) -> MySQLSpec {
        var s = spec
        s.tableSize = max(Int(Double(spec.tableSize) * factor), min(spec.tableSize, 1000))
        return s
    }

    /// The spec without secrets.
    package static func redacted(_ spec: MySQLSpec) -> MySQLSpec {
        var s = spec
        s.password = ""
        return s
    }

    /// The metric of its per-second rate.
    package static var intervalRate: Metric? { transactionsPerSec }
}

extension MySQLClientResult: WorkloadResult {
    /// Its threads, for the validity checks.
    package var generatorLoad: LoadThreads? { load }
    /// The result's name on the wire.
    package static let resultKind = "mysqlClient"
    /// Operations it completed in the window.
    package var completions: UInt64? { transactions }

    /// Several peers' results as one.
    package static func merged(_ all: [MySQLClientResult]) -> MySQLClientResult? {
        func sum(_ key: KeyPath<MySQLClientResult, UInt64>) -> UInt64 { all.map { $0[keyPath: key] }.reduce(0, +) }
        return MySQLClientResult(
            transactions: sum(\.transactions), latency: .merged(all.map(\.latency)), queries: sum(\.queries),
            rowsRead: sum(\.rowsRead), errors: sum(\.errors), deadlocks: sum(\.deadlocks),
            reconnects: sum(\.reconnects), load: .merged(all.map(\.load)))
    }
}

extension MySQLServerResult: WorkloadResult {
    /// The result's name on the wire.
    package static let resultKind = "mysqlServer"
}
