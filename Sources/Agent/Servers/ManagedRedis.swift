import Foundation
import Shared
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A redis-server the SUT agent started for a run: persistence off, bound to the data address,
/// optionally pinned to a CPU, its data directory and log in a scratch folder it removes on stop.
final class ManagedRedis: Sendable {
    /// What it was started with; a step asking for the same reuses it.
    let key: Key
    /// Where clients reach it.
    let endpoint: Endpoint
    /// The server process.
    let process: ServerProcess
    private let folder: String

    /// The parameters that make two servers interchangeable.
    struct Key: Equatable, Sendable {
        var binary: String
        var bindHost: String
        var port: Int?
        var cpu: Int?
    }

    /// Starts redis-server and waits until it answers PING (at most `readyTimeoutNs`).
    init(_ key: Key, readyTimeoutNs: Int64 = 10_000_000_000) throws {
        self.key = key
        let port = try key.port ?? Self.freePort(key.bindHost)
        endpoint = Endpoint(host: key.bindHost, port: port)
        folder = try Self.makeFolder()
        let arguments = [
            "--bind", key.bindHost, "--port", String(port), "--save", "", "--appendonly", "no",
            "--protected-mode", "no", "--daemonize", "no", "--dir", folder, "--logfile", "",
            "--io-threads", "1",
        ]
        do {
            process = try ServerProcess.start(key.binary, arguments, cpu: key.cpu, logPath: folder + "/redis.log")
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
        do {
            try waitUntilReady(timeoutNs: readyTimeoutNs)
        } catch {
            stop()
            throw error
        }
    }

    /// Whether the server still runs; a description of its end (with its last log lines) if not.
    func failure() -> String? {
        guard let end = process.exitDescription() else { return nil }
        return "\(process.name) (pid \(process.pid)) \(end): \(process.logTail())"
    }

    /// Stops the server and removes its folder.
    func stop() {
        process.stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func waitUntilReady(timeoutNs: Int64) throws {
        let deadline = MonotonicClock.now() + timeoutNs
        var last = "no answer"
        while MonotonicClock.now() < deadline {
            if let failure = failure() {
                throw WireError(.serverFailed, "\(failure)")
            }
            do {
                if try RedisControl(endpoint, timeoutMs: 500).call("PING") == .simple("PONG") { return }
            } catch {
                last = "\(error)"
            }
            usleep(20_000)
        }
        throw WireError(
            .serverFailed,
            "redis-server at \(endpoint) did not answer PING within \(timeoutNs / 1_000_000_000) s: \(last)")
    }

    private static func makeFolder() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/lockstep-redis.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw WireError(.serverFailed, "cannot create a scratch folder: \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }

    /// A port nothing listens on at `host` right now.
    private static func freePort(_ host: String) throws -> Int {
        let fd = try Socket.bound(host: host, port: 0, type: Int32(SOCK_STREAM.rawValue))
        defer { close(fd) }
        return Socket.localPort(fd)
    }
}

/// The servers one coordinator session has the agent run. They live across the steps of a sweep
/// (a step asking for the same server reuses it) and stop when the session ends for any reason:
/// bye, lost connection, lease expiry, agent shutdown.
final class SessionServers: Sendable {
    private let redis = Mutex<ManagedRedis?>(nil)

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

    /// Stops every server; returns a line per server stopped.
    @discardableResult
    func stopAll() -> [String] {
        guard
            let server = redis.withLock({ current in
                defer { current = nil }; return current
            })
        else { return [] }
        server.stop()
        return ["redis-server pid \(server.process.pid)"]
    }
}
