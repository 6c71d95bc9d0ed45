import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// Two `lockstep-agent` child processes on loopback with a fresh token, for `quickstart` and tests.
/// They are stopped (SIGTERM, then SIGKILL) by ``stop()``.
final class LocalAgents {
    let directory: String
    let tokenPath: String
    let sut: Endpoint
    let peer: Endpoint
    private var processes: [Process] = []

    /// Starts both agents and waits until each accepts connections.
    init(agentBinary: String) throws {
        var template = Array("/tmp/lockstep-quickstart-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw ResultsError("cannot create a temporary folder") }
        directory = String(cString: dir)
        tokenPath = "\(directory)/token"
        try Token.generate(at: tokenPath)
        sut = Endpoint(host: "127.0.0.1", port: try Self.freePort())
        peer = Endpoint(host: "127.0.0.1", port: try Self.freePort())
        guard FileManager.default.isExecutableFile(atPath: agentBinary) else {
            throw WireError(.unreachable, "agent binary not found at \(agentBinary) (build it: swift build)")
        }
        for (name, endpoint) in [("sut", sut), ("peer", peer)] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: agentBinary)
            process.arguments = [
                "serve", "--listen", endpoint.description, "--token-file", tokenPath, "--name", name,
                "--log-dir", "\(directory)/logs",
            ]
            let logFile = FileHandle(forWritingAtPath: "/dev/null")
            process.standardOutput = logFile
            process.standardError =
                FileManager.default.createFile(atPath: "\(directory)/\(name).stderr", contents: nil)
                ? FileHandle(forWritingAtPath: "\(directory)/\(name).stderr") : logFile
            try process.run()
            processes.append(process)
            Self.register(process.processIdentifier)
        }
        for endpoint in [sut, peer] {
            try Self.waitUntilListening(endpoint, timeoutNs: 10_000_000_000)
        }
    }

    deinit { stop() }

    /// Stops both agents and waits for them.
    func stop() {
        for process in processes { Self.unregister(process.processIdentifier) }
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = MonotonicClock.now() + 3_000_000_000
        for process in processes {
            while process.isRunning && MonotonicClock.now() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        processes.removeAll()
    }

    /// Agents started and not yet stopped, by PID: a command that ends through `exit` (every
    /// `lockstep: error:` line does) skips the `defer` that stops them, so an exit handler does.
    private static let running = LockedValue<Set<pid_t>>([])
    private static let exitHandler: Void = { atexit { LocalAgents.stopRunning() } }()

    private static func register(_ pid: pid_t) {
        _ = exitHandler
        running.withLock { _ = $0.insert(pid) }
    }

    private static func unregister(_ pid: pid_t) { running.withLock { _ = $0.remove(pid) } }

    /// At exit: SIGTERM to every agent still running, SIGKILL to those alive a second later.
    private static func stopRunning() {
        let pids = running.withLock { all in
            defer { all.removeAll() }
            return all
        }
        for pid in pids { kill(pid, SIGTERM) }
        let deadline = MonotonicClock.now() + 1_000_000_000
        var left = pids
        while !left.isEmpty && MonotonicClock.now() < deadline {
            left = left.filter { waitpid($0, nil, WNOHANG) == 0 }
            usleep(20_000)
        }
        for pid in left { kill(pid, SIGKILL) }
    }

    /// The agent binary beside the running executable.
    static func siblingAgentBinary() -> String {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("lockstep-agent").path
    }

    /// A loopback TCP port nobody listens on right now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else { throw WireError(.unreachable, "cannot find a free loopback port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Whether something accepts TCP connections on the IPv4 endpoint right now.
    static func isListening(_ endpoint: Endpoint) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(endpoint.port).bigEndian)
        addr.sin_addr.s_addr = inet_addr(endpoint.host)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }

    /// Waits until the endpoint accepts connections; throws after `timeoutNs`.
    static func waitUntilListening(_ endpoint: Endpoint, timeoutNs: Int64) throws {
        let deadline = MonotonicClock.now() + timeoutNs
        while MonotonicClock.now() < deadline {
            if isListening(endpoint) { return }
            usleep(50_000)
        }
        throw WireError(.unreachable, "local agent on \(endpoint) did not start listening")
    }
}
