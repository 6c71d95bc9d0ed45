import CLockstepSys
import Crypto
import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// Parallel compression on the SUT: xz (or pixz) over the deterministic corpus, run to completion
/// where the step is placed. Prepare finds the compressor (naming its Debian package), writes the
/// corpus once per session, seed and size into the session's data folder, hashing it on the way,
/// and reads it back so it sits in the page cache; the start runs the compressor at the step's
/// instant with its output on a pipe the agent counts and throws away. The result: the corpus's
/// size and digest, the compressed size, the wall time and the compressor's CPU.
final class CompressEngine: Engine, @unchecked Sendable {
    let endpoint: Endpoint? = nil
    private let spec: CompressSpec
    private let step: StepSpec
    private let events: EngineEventSink
    private let tool: String
    private let version: String
    private let corpus: String
    private let digest: String
    private let folder: String
    private let cpu: CPUView
    private let stop = StopFlag()

    init(_ spec: CompressSpec, step: StepSpec, data: SessionData, events: @escaping EngineEventSink) throws {
        guard let tool = Executable.find(spec.tool.rawValue),
            (try? FileManager.default.destinationOfSymbolicLink(atPath: tool)).map({ !$0.hasSuffix("busybox") }) ?? true
        else {
            throw WireError(
                .badStep, "\(spec.tool.rawValue) is not installed on this host: apt-get install \(spec.tool.package)")
        }
        self.spec = spec
        self.step = step
        self.events = events
        self.tool = tool
        let cpu = CPUView.current(pinnedTo: step.placement.sutCPUs)
        self.cpu = cpu
        folder = try data.scratchFolder()
        guard Int64(spec.size) + (64 << 20) <= cpu.memoryAvailableBytes else {
            throw WireError(
                .badStep,
                "the \(spec.size >> 20) MiB corpus does not fit the page cache: the placement may use \(cpu.memoryAvailableBytes >> 20) MiB"
            )
        }
        (corpus, digest) = try Self.corpus(spec, folder: folder)
        version = Executable.firstLine(of: tool, ["--version"]) ?? spec.tool.rawValue
    }

    /// Writes the corpus unless the session did (its digest kept beside it), then reads it once so it
    /// is in the page cache; its path and sha256.
    static func corpus(_ spec: CompressSpec, folder: String) throws -> (String, String) {
        let path = "\(folder)/corpus-\(spec.seed)-\(spec.size).bin"
        let digestPath = path + ".sha256"
        if let digest = try? String(contentsOfFile: digestPath, encoding: .utf8),
            (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue == spec.size
        {
            warm(path)
            return (path, digest)
        }
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw WireError(.serverFailed, "cannot write the corpus to \(path)")
        }
        var hash = SHA256()
        do {
            try Corpus.generate(seed: spec.seed, size: spec.size) { chunk in
                hash.update(data: chunk)
                try handle.write(contentsOf: chunk)
            }
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: path)
            throw WireError(.serverFailed, "cannot write the corpus to \(path): \(error.localizedDescription)")
        }
        let digest = Corpus.hex(hash.finalize())
        try digest.write(toFile: digestPath, atomically: true, encoding: .utf8)
        warm(path)
        return (path, digest)
    }

    /// Reads `path` through once (into the page cache).
    static func warm(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
    }

    /// The compressor's arguments: threads, level, the corpus, the output on stdout.
    var arguments: [String] {
        switch spec.tool {
        case .xz: ["-T", String(spec.threads), "-\(spec.level)", "-c", "-k", corpus]
        case .pixz: ["-p", String(spec.threads), "-\(spec.level)", "-i", corpus, "-o", "/dev/stdout"]
        }
    }

    func start(atNs: Int64) {
        _ = EngineThread(name: "compress") { [self] in run(atNs: atNs) }
    }

    func requestStop() { stop.raise() }

    private func run(atNs: Int64) {
        var fds: [Int32] = [-1, -1]
        let made = lockstep_pipe_cloexec(&fds)
        guard made == 0 else {
            return events(.failed(WireError(.serverFailed, "cannot make a pipe: \(String(cString: strerror(-made)))")))
        }
        let counter = PipeCounter(fd: fds[0])
        let watch = ExternalRun(
            name: spec.tool.rawValue, budgetNs: spec.completionBudgetNs ?? 1_800_000_000_000,
            stopRequested: { [stop] in stop.isRaised }, events: events)
        let exit = watch.run(atNs: atNs) {
            defer { close(fds[1]) }
            return try ServerProcess.start(
                tool, arguments, cpus: step.placement.sutCPUs, logPath: "\(folder)/\(step.stepID).log",
                stdout: fds[1])
        }
        let outputBytes = counter.wait()
        guard let exit else { return }
        guard exit.status == "exited with status 0" else {
            return events(
                .failed(WireError(.serverFailed, "\(spec.tool.rawValue) \(exit.status): \(exit.process.logTail())")))
        }
        let cpuTime = exit.process.cpuSeconds() ?? (0, 0)
        let result = CompressResult(
            engine: version, command: ([tool] + arguments).joined(separator: " "), threads: spec.threads,
            level: spec.level, inputBytes: Int64(spec.size), corpusSHA256: digest, outputBytes: outputBytes,
            seconds: Double(exit.endedNs - exit.startedNs) / 1e9, userSeconds: cpuTime.user,
            systemSeconds: cpuTime.system, cpu: cpu)
        events(
            .finished(
                SideResult(
                    startedNs: exit.startedNs, stoppedNs: exit.endedNs, windowStartNs: exit.startedNs,
                    windowEndNs: exit.endedNs, outcome: SideOutcome(result))))
    }
}

/// Reads a pipe to its end on its own thread, counting the bytes and throwing them away.
private final class PipeCounter: @unchecked Sendable {
    private let fd: Int32
    private var total: Int64 = 0
    private let done = DispatchSemaphore(value: 0)

    init(fd: Int32) {
        self.fd = fd
        _ = EngineThread(name: "compress-out") { [self] in
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    total += Int64(n)
                } else if n == 0 || errno != EINTR {
                    break
                }
            }
            close(fd)
            done.signal()
        }
    }

    /// The bytes read, once the pipe's writers are all gone.
    func wait() -> Int64 {
        done.wait()
        return total
    }
}

extension CompressWorkload: EngineWorkload {
    /// The compressor where the step is placed.
    static func engine(_ spec: CompressSpec, step: StepSpec, context: EngineContext) throws -> any Engine {
        try CompressEngine(spec, step: step, data: context.data, events: context.events)
    }
}
