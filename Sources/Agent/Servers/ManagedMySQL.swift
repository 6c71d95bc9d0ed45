import CLockstepSys
import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// A MariaDB or MySQL server the SUT agent started for a run: a data directory initialized in a
/// fresh folder on the configured volume, a config the agent writes, the benchmark database and
/// user created at startup (`init-file`), bound to the data address, optionally pinned to a CPU.
/// Stopping it removes the folder.
final class ManagedMySQL: ManagedServer {
    /// What it was started with; a step asking for the same reuses it.
    let key: Key
    /// Where clients reach it.
    let endpoint: Endpoint
    /// The server process.
    let process: ServerProcess
    /// The flush method in effect (O_DIRECT falls back to fsync where the volume refuses it).
    let flushMethod: String
    private let folder: String

    /// The parameters that make two servers interchangeable.
    struct Key: Equatable, Sendable {
        var binary: String?
        var volume: String?
        var bindHost: String
        var port: Int?
        var cpus: [Int]?
        var bufferPoolMiB: Int
        var flushLogAtTrxCommit: Int
        var flushMethod: String
        var database: String
        var user: String
        var password: String
    }

    /// Initializes a data directory, starts the server and waits until the benchmark user can log in.
    init(_ key: Key, readyTimeoutNs: Int64 = 60_000_000_000) throws {
        self.key = key
        guard let binary = key.binary ?? ["mariadbd", "mysqld"].first(where: { Executable.find($0) != nil })
        else {
            throw WireError(.serverFailed, "no MariaDB/MySQL server found (looked for mariadbd and mysqld on PATH)")
        }
        guard let serverPath = Executable.find(binary) else {
            throw WireError(
                .serverFailed, "\(binary) not found (PATH=\(ProcessInfo.processInfo.environment["PATH"] ?? ""))")
        }
        let port = try key.port ?? ServerFolder.freePort(key.bindHost)
        endpoint = Endpoint(host: key.bindHost, port: port)
        folder = try ServerFolder.make(in: key.volume, prefix: "lockstep-mysql")
        let data = folder + "/data"
        flushMethod =
            key.flushMethod == "O_DIRECT" && lockstep_accepts_direct_io(folder) == 0 ? "fsync" : key.flushMethod
        let user = Self.currentUser()
        do {
            try Self.initialize(serverPath: serverPath, dataDir: data, user: user, log: folder + "/install.log")
            let initFile = folder + "/init.sql"
            try """
            CREATE DATABASE IF NOT EXISTS \(key.database);
            CREATE USER IF NOT EXISTS '\(key.user)'@'%' IDENTIFIED BY '\(key.password)';
            ALTER USER '\(key.user)'@'%' IDENTIFIED BY '\(key.password)';
            GRANT ALL PRIVILEGES ON *.* TO '\(key.user)'@'%';

            """.write(toFile: initFile, atomically: true, encoding: .utf8)
            let config = folder + "/my.cnf"
            try """
            [mysqld]
            datadir=\(data)
            socket=\(folder)/mysqld.sock
            pid-file=\(folder)/mysqld.pid
            port=\(port)
            bind-address=\(key.bindHost)
            user=\(user)
            skip-name-resolve
            skip-log-bin
            init-file=\(initFile)
            max_connections=5000
            max_prepared_stmt_count=1000000
            innodb_buffer_pool_size=\(key.bufferPoolMiB)M
            innodb_flush_log_at_trx_commit=\(key.flushLogAtTrxCommit)
            innodb_flush_method=\(flushMethod)

            """.write(toFile: config, atomically: true, encoding: .utf8)
            process = try ServerProcess.start(
                serverPath, ["--defaults-file=\(config)"], cpus: key.cpus, logPath: folder + "/mysqld.log")
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
        do {
            let credentials = MySQLCredentials(user: key.user, password: key.password, database: key.database)
            try waitUntil(
                "\(process.name) at \(endpoint) did not accept a login", timeoutNs: readyTimeoutNs, intervalUs: 50_000
            ) { [controlEndpoint] in
                _ = try MySQLConnection(controlEndpoint, credentials, timeoutMs: 1000)
                return true
            }
        } catch {
            stop()
            throw error
        }
    }

    /// Where the agent itself connects (the data address, or loopback for a wildcard bind).
    var controlEndpoint: Endpoint {
        Endpoint(host: key.bindHost == "0.0.0.0" ? "127.0.0.1" : key.bindHost, port: endpoint.port)
    }

    /// Stops the server (a clean shutdown, SIGKILL after 20 s) and removes its folder.
    func stop() {
        process.stop(graceNs: 20_000_000_000)
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Creates the system tables: `mariadb-install-db` for MariaDB, `--initialize-insecure` for MySQL.
    private static func initialize(serverPath: String, dataDir: String, user: String, log: String) throws {
        let name = (serverPath as NSString).lastPathComponent
        let installer = name.hasPrefix("mysqld") ? nil : Executable.find("mariadb-install-db")
        let process: ServerProcess
        if let installer {
            let basedir = ((serverPath as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
            process = try ServerProcess.start(
                installer,
                [
                    "--no-defaults", "--datadir=\(dataDir)", "--user=\(user)", "--basedir=\(basedir)",
                    "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve",
                ], cpus: nil, logPath: log)
        } else {
            process = try ServerProcess.start(
                serverPath, ["--no-defaults", "--initialize-insecure", "--datadir=\(dataDir)", "--user=\(user)"],
                cpus: nil, logPath: log)
        }
        let deadline = MonotonicClock.now() + 120_000_000_000
        while process.exitDescription() == nil {
            if MonotonicClock.now() > deadline {
                process.stop()
                throw WireError(.serverFailed, "\(process.name) did not finish within 120 s: \(process.logTail())")
            }
            usleep(20_000)
        }
        let end = process.exitDescription()!
        guard end == "exited with status 0" else {
            throw WireError(.serverFailed, "\(process.name) \(end): \(process.logTail())")
        }
    }

    private static func currentUser() -> String {
        guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return "root" }
        return String(cString: name)
    }
}
