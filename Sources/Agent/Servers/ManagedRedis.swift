import Foundation
import Shared
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A redis-server the SUT agent started for a run: persistence off, bound to the data address,
/// optionally pinned to a CPU, its data directory and log in a scratch folder it removes on stop.
final class ManagedRedis: ManagedServer {
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
        var cpus: [Int]?
    }

    /// Starts redis-server and waits until it answers PING (at most `readyTimeoutNs`).
    init(_ key: Key, readyTimeoutNs: Int64 = 10_000_000_000) throws {
        self.key = key
        let port = try key.port ?? ServerFolder.freePort(key.bindHost)
        endpoint = Endpoint(host: key.bindHost, port: port)
        folder = try ServerFolder.make(prefix: "lockstep-redis")
        let arguments = [
            "--bind", key.bindHost, "--port", String(port), "--save", "", "--appendonly", "no",
            "--protected-mode", "no", "--daemonize", "no", "--dir", folder, "--logfile", "",
            "--io-threads", "1",
        ]
        do {
            process = try ServerProcess.start(key.binary, arguments, cpus: key.cpus, logPath: folder + "/redis.log")
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
        do {
            try waitUntil("redis-server at \(endpoint) did not answer PING", timeoutNs: readyTimeoutNs) { [endpoint] in
                try RedisControl(endpoint, timeoutMs: 500).call("PING") == .simple("PONG")
            }
        } catch {
            stop()
            throw error
        }
    }

    /// Stops the server and removes its folder.
    func stop() {
        process.stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

}
