import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// The SUT side of the MySQL sweep. At prepare it gets the session's server (starting one unless
/// the step names an external server), creates the database and loads sysbench's tables (or reuses
/// them); while the step runs it watches the server; at stop it counts the rows (the read-write
/// transaction deletes and inserts the same id, so the count must not move).
final class MySQLServerEngine: Engine, @unchecked Sendable {
    let endpoint: Endpoint?
    private let server: ManagedMySQL?
    private let events: EngineEventSink
    private let stop = StopFlag()
    /// Raised once the monitor reported the server's death: then no `finished` follows.
    private let failed = StopFlag()
    private var monitor: EngineThread?
    private var startedNs: Int64 = 0
    private var counters: [String: Double] = [:]
    private let setup: MySQLConnection
    private let tables: MySQLTables

    init(spec: MySQLSpec, servers: SessionServers, events: @escaping EngineEventSink) throws {
        self.events = events
        let control: Endpoint
        if let external = spec.server.external {
            server = nil
            endpoint = external
            control = external
        } else {
            let managed = try servers.mysql(
                ManagedMySQL.Key(
                    binary: spec.server.binary, volume: spec.server.volume, bindHost: spec.bindHost ?? "127.0.0.1",
                    port: spec.server.port, cpu: spec.server.cpu, bufferPoolMiB: spec.server.bufferPoolMiB,
                    flushLogAtTrxCommit: spec.server.flushLogAtTrxCommit, flushMethod: spec.server.flushMethod,
                    database: spec.database, user: spec.user, password: spec.password))
            server = managed
            endpoint = managed.endpoint
            counters["mysql_o_direct"] = managed.flushMethod == "O_DIRECT" ? 1 : 0
            control = managed.controlEndpoint
        }
        tables = MySQLTables(spec: spec)
        setup = try MySQLConnection(
            control, MySQLCredentials(user: spec.user, password: spec.password, database: ""),
            stallNs: 600_000_000_000)
        do {
            try setup.query("CREATE DATABASE IF NOT EXISTS \(spec.database)")
            try setup.query("USE \(spec.database)")
            counters["mysql_load_seconds"] = try tables.prepare(setup)
        } catch let error as MySQLServerError {
            throw WireError(.serverProtocol, "preparing sysbench's tables on MySQL at \(control): \(error)")
        }
    }

    func start(atNs: Int64) {
        monitor = EngineThread(name: "mysql-monitor") { [self] in
            startedNs = MonotonicClock.sleepThenSpin(until: atNs)
            events(.started(startedNs))
            while !stop.isRaised {
                usleep(20_000)
                if let failure = server?.failure() {
                    failed.raise()
                    events(.failed(WireError(.serverFailed, "\(failure) during the step")))
                    return
                }
            }
        }
    }

    func requestStop() {
        guard !stop.isRaised else { return }
        stop.raise()
        _ = EngineThread(name: "mysql-stop") { [self] in
            monitor?.join()
            guard !failed.isRaised else { return }
            let stoppedNs = MonotonicClock.now()
            if let rows = try? (1...tables.spec.tables).reduce(0, { $0 + (try tables.rows($1, setup) ?? 0) }) {
                counters["mysql_rows"] = Double(rows)
            }
            events(
                .finished(
                    SideResult(
                        startedNs: startedNs, stoppedNs: stoppedNs, windowStartNs: startedNs, windowEndNs: stoppedNs,
                        transactions: 0, lost: 0, latency: nil, counters: counters)))
        }
    }
}
