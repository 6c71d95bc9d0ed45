import CLockstepSys
import Dispatch
import Foundation
import Shared
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A server the agent started and owns (redis-server, mariadbd).
protocol ManagedServer: AnyObject, Sendable {
    /// Its process.
    var process: ServerProcess { get }
}

extension ManagedServer {
    /// `nil` while the server runs; how it ended, with its last log lines, once it has.
    func failure() -> String? {
        guard let end = process.exitDescription() else { return nil }
        return "\(process.name) (pid \(process.pid)) \(end): \(process.logTail())"
    }

    /// Polls `answers` every `intervalUs` until it returns `true`; fails at once if the server ends,
    /// and after `timeoutNs` with `what` it did not do and the last error `answers` threw.
    func waitUntil(
        _ what: String, timeoutNs: Int64, intervalUs: UInt32 = 20_000, _ answers: () throws -> Bool
    ) throws {
        let deadline = MonotonicClock.now() + timeoutNs
        var last = "no answer"
        while MonotonicClock.now() < deadline {
            if let failure = failure() { throw WireError(.serverFailed, failure) }
            do {
                if try answers() { return }
            } catch {
                last = "\(error)"
            }
            usleep(intervalUs)
        }
        throw WireError(.serverFailed, "\(what) within \(timeoutNs / 1_000_000_000) s: \(last)")
    }
}

/// A server program the agent started (redis-server, later mariadbd) and must stop.
///
/// Children are started from one thread that lives as long as the agent, with PR_SET_PDEATHSIG:
/// if the agent dies, even by SIGKILL, the kernel kills its servers too.
final class ServerProcess: Sendable {
    /// The child's PID.
    let pid: Int32
    /// The program's name, for messages.
    let name: String
    /// Where the child's stdout and stderr go.
    let logPath: String
    private let status = Mutex<Int32?>(nil)
    private let usage = Mutex<rusage?>(nil)

    private init(pid: Int32, name: String, logPath: String) {
        self.pid = pid
        self.name = name
        self.logPath = logPath
    }

    /// Starts `executable` (a path, or a name looked up on PATH) with `arguments`, pinned to `cpus`
    /// if given, output appended to `logPath` (stdout on `stdout` instead when given: a pipe the
    /// caller reads), in `workingDirectory` when given.
    static func start(
        _ executable: String, _ arguments: [String], cpus: [Int]?, logPath: String, stdout: Int32? = nil,
        workingDirectory: String? = nil, environment: [String: String]? = nil
    ) throws -> ServerProcess {
        guard let path = Executable.find(executable) else {
            throw WireError(
                .serverFailed, "\(executable) not found (PATH=\(ProcessInfo.processInfo.environment["PATH"] ?? ""))")
        }
        let logFD = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard logFD >= 0 else {
            throw WireError(.serverFailed, "cannot open \(logPath): \(String(cString: strerror(errno)))")
        }
        defer { close(logFD) }
        let argv = [path] + arguments
        let envList = environment.map { $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } }
        let result = Spawner.shared.run {
            var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
            var cEnv: [UnsafeMutablePointer<CChar>?]? = envList.map { $0.map { strdup($0) } + [nil] }
            defer {
                cArgs.forEach { free($0) }
                cEnv?.forEach { free($0) }
            }
            let mask = (cpus ?? []).map(Int32.init)
            return mask.withUnsafeBufferPointer { cpuList in
                if cEnv != nil {
                    return lockstep_spawn_io(
                        path, &cArgs, cpuList.baseAddress, Int32(cpuList.count), stdout ?? logFD, logFD,
                        workingDirectory, &cEnv!, SIGKILL)
                }
                return lockstep_spawn_io(
                    path, &cArgs, cpuList.baseAddress, Int32(cpuList.count), stdout ?? logFD, logFD, workingDirectory,
                    nil, SIGKILL)
            }
        }
        let name = (executable as NSString).lastPathComponent
        guard result > 0 else {
            let reason = String(cString: strerror(-result))
            if result == -EINVAL, let cpus {
                throw WireError(
                    .serverFailed,
                    "cannot pin \(name) to CPUs \(cpus.map(String.init).joined(separator: ",")): \(reason)")
            }
            throw WireError(.serverFailed, "cannot start \(path): \(reason)")
        }
        return ServerProcess(pid: result, name: name, logPath: logPath)
    }

    /// How the child ended (`exited with status 1`, `killed by signal 9`), or `nil` while it runs.
    func exitDescription() -> String? {
        status.withLock { saved -> String? in
            if saved == nil {
                var raw: Int32 = 0
                var used = rusage()
                if wait4(pid, &raw, WNOHANG, &used) == pid {
                    saved = raw
                    usage.withLock { $0 = used }
                }
            }
            guard let raw = saved else { return nil }
            return raw & 0x7f == 0 ? "exited with status \((raw >> 8) & 0xff)" : "killed by signal \(raw & 0x7f)"
        }
    }

    /// Stops the child and its process group: SIGTERM, then SIGKILL after `graceNs`; returns when
    /// the child is gone.
    func stop(graceNs: Int64 = 3_000_000_000) {
        guard exitDescription() == nil else { return }
        // The child leads its own process group: what it started (mpirun's ranks) is signalled too.
        kill(-pid, SIGTERM)
        let deadline = MonotonicClock.now() + graceNs
        while exitDescription() == nil {
            if MonotonicClock.now() > deadline {
                kill(-pid, SIGKILL)
                status.withLock { saved in
                    var raw: Int32 = 0
                    var used = rusage()
                    while wait4(pid, &raw, 0, &used) < 0 && errno == EINTR {}
                    saved = raw
                    usage.withLock { $0 = used }
                }
                return
            }
            usleep(5_000)
        }
    }

    /// CPU seconds the child and the descendants it waited for used (user, system), once it ended.
    func cpuSeconds() -> (user: Double, system: Double)? {
        guard exitDescription() != nil, let used = usage.withLock({ $0 }) else { return nil }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return (seconds(used.ru_utime), seconds(used.ru_stime))
    }

    /// The last lines of the child's output, joined with ` | `.
    func logTail(lines: Int = 3) -> String {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return "" }
        return text.split(separator: "\n").suffix(lines).joined(separator: " | ")
    }
}

/// The one thread that forks the agent's children; it never ends, so PR_SET_PDEATHSIG fires only
/// when the agent does.
private final class Spawner: @unchecked Sendable {
    static let shared = Spawner()
    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let pending = DispatchSemaphore(value: 0)

    private init() {
        _ = EngineThread(name: "child-spawner") { [self] in
            while true {
                pending.wait()
                let job = jobs.withLock { $0.removeFirst() }
                job()
            }
        }
    }

    /// Runs `body` on the spawner thread and returns its result.
    func run(_ body: @escaping @Sendable () -> Int32) -> Int32 {
        let done = DispatchSemaphore(value: 0)
        let cell = ResultCell()
        jobs.withLock {
            $0.append {
                cell.value.store(body(), ordering: .releasing)
                done.signal()
            }
        }
        pending.signal()
        done.wait()
        return cell.value.load(ordering: .acquiring)
    }
}

private final class ResultCell: Sendable {
    let value = Atomic<Int32>(0)
}
