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
    private let watch: ServerWatch
    /// What prepare measured: seconds loading the tables, whether O_DIRECT was kept.
    private let loadSeconds: Double
    private let oDirect: Bool?
    private let setup: MySQLConnection
    private let tables: MySQLTables

    init(_ spec: MySQLSpec, step: StepSpec, servers: SessionServers, events: @escaping EngineEventSink) throws {
        let control: Endpoint
        let server: ManagedMySQL?
        if let external = spec.server.external {
            server = nil
            endpoint = external
            control = external
            oDirect = nil
        } else {
            let managed = try servers.mysql(
                ManagedMySQL.Key(
                    binary: spec.server.binary, volume: spec.server.volume ?? servers.mysqlVolumeDefault,
                    bindHost: step.placement.bindHost,
                    port: spec.server.port ?? step.placement.dataPort, cpus: step.placement.cpus(for: step.role),
                    bufferPoolMiB: spec.server.bufferPoolMiB,
                    flushLogAtTrxCommit: spec.server.flushLogAtTrxCommit, flushMethod: spec.server.flushMethod,
                    database: spec.database, user: spec.user, password: spec.password))
            server = managed
            endpoint = managed.endpoint
            oDirect = managed.flushMethod == "O_DIRECT"
            control = managed.controlEndpoint
        }
        tables = MySQLTables(spec: spec)
        setup = try MySQLConnection(
            control, MySQLCredentials(user: spec.user, password: spec.password, database: ""),
            stallNs: 600_000_000_000)
        do {
            try setup.query("CREATE DATABASE IF NOT EXISTS \(spec.database)")
            try setup.query("USE \(spec.database)")
            loadSeconds = try tables.prepare(setup)
        } catch let error as MySQLServerError {
            throw WireError(.serverProtocol, "preparing sysbench's tables on MySQL at \(control): \(error)")
        }
        watch = ServerWatch(name: "mysql", server: server, events: events)
    }

    func start(atNs: Int64) { watch.start(atNs: atNs) }

    func requestStop() {
        watch.requestStop { [self] in
            let rows = try? (1...tables.spec.tables).reduce(0, { $0 + (try tables.rows($1, setup) ?? 0) })
            return SideOutcome(
                MySQLServerResult(loadSeconds: loadSeconds, oDirect: oDirect, rowsAfter: rows.map { UInt64($0) }))
        }
    }
}
