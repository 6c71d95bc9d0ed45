import Shared
import Synchronization

/// The servers one coordinator session has the agent run. They live across the steps of a sweep
/// (a step asking for the same server reuses it) and stop when the session ends for any reason:
/// bye, lost connection, lease expiry, agent shutdown.
final class SessionServers: Sendable {
    private let redis = Mutex<ManagedRedis?>(nil)
    private let mysql = Mutex<ManagedMySQL?>(nil)
    /// Where a started MySQL server's data goes when the step names no volume.
    let mysqlVolumeDefault: String?

    init(mysqlVolumeDefault: String? = nil) { self.mysqlVolumeDefault = mysqlVolumeDefault }

    /// The running redis-server for `key`; a server started with other parameters is stopped and
    /// a new one started.
    func redis(_ key: ManagedRedis.Key) throws -> ManagedRedis {
        try redis.withLock { current in
            if let running = current, running.key == key, running.failure() == nil { return running }
            current?.stop()
            current = nil
            let started = try ManagedRedis(key)
            current = started
            return started
        }
    }

    /// The running MySQL server for `key`; a server started with other parameters is stopped and
    /// a new one started.
    func mysql(_ key: ManagedMySQL.Key) throws -> ManagedMySQL {
        try mysql.withLock { current in
            if let running = current, running.key == key, running.failure() == nil { return running }
            current?.stop()
            current = nil
            let started = try ManagedMySQL(key)
            current = started
            return started
        }
    }

    /// Stops every server; returns a line per server stopped.
    @discardableResult
    func stopAll() -> [String] {
        var stopped: [String] = []
        if let server = redis.withLock({ current in
            defer { current = nil }; return current
        }) {
            server.stop()
            stopped.append("redis-server pid \(server.process.pid)")
        }
        if let server = mysql.withLock({ current in
            defer { current = nil }; return current
        }) {
            server.stop()
            stopped.append("\(server.process.name) pid \(server.process.pid)")
        }
        return stopped
    }
}
