import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// CPU and memory on the SUT: Debian's hpcc under OpenMPI's mpirun, run by the agent where the
/// step is placed (the host, a container, a guest), one rank per CPU the placement may use. Prepare
/// finds the engines (naming the Debian package when one is missing), reads what the placement's
/// CPUs and memory look like, sizes the problem (refusing one that does not fit, with the numbers)
/// and writes `hpccinf.txt` in a folder of the session's; the start runs the suite to completion at
/// the step's instant. The result is `hpccoutf.txt`'s summary, typed; a failed residual check, a
/// missing figure or a non-zero exit fails the step. A stop or the time limit ends mpirun and its
/// ranks (their process group), and the folder goes with the session.
final class HpccEngine: Engine, @unchecked Sendable {
    let endpoint: Endpoint? = nil
    private let spec: HpccSpec
    private let step: StepSpec
    private let events: EngineEventSink
    private let mpirun: String
    private let hpcc: String
    private let folder: String
    private let ranks: Int
    private let problem: HpccProblem
    private let cpu: CPUView
    private let mpiVersion: String
    private let stop = StopFlag()

    init(_ spec: HpccSpec, step: StepSpec, data: SessionData, events: @escaping EngineEventSink) throws {
        guard let hpcc = Executable.find("hpcc") else {
            throw WireError(.badStep, "hpcc is not installed on this host: apt-get install hpcc openmpi-bin")
        }
        guard let mpirun = Executable.find("mpirun") else {
            throw WireError(.badStep, "mpirun is not installed on this host: apt-get install openmpi-bin")
        }
        self.spec = spec
        self.step = step
        self.events = events
        self.hpcc = hpcc
        self.mpirun = mpirun
        let cpu = CPUView.current(pinnedTo: step.placement.sutCPUs)
        self.cpu = cpu
        ranks = spec.ranks ?? cpu.usableCPUs
        problem = try HpccProblem(spec, ranks: ranks, availableBytes: cpu.memoryAvailableBytes)
        folder = try data.scratchFolder() + "/hpcc-\(step.stepID)"
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try problem.inputFile.write(toFile: folder + "/hpccinf.txt", atomically: true, encoding: .utf8)
        mpiVersion = Executable.firstLine(of: mpirun, ["--version"]) ?? "Open MPI"
    }

    /// mpirun's arguments: the ranks, bound to cores unless there are more ranks than CPUs, shared
    /// memory between them (no single-copy mechanism: a container may not ptrace), one BLAS thread
    /// per rank.
    var arguments: [String] {
        var args: [String] = []
        if geteuid() == 0 { args.append("--allow-run-as-root") }
        args += ["-np", String(ranks)]
        args += ranks > cpu.usableCPUs ? ["--oversubscribe", "--bind-to", "none"] : ["--bind-to", "core"]
        args += [
            "--mca", "plm", "isolated", "--mca", "btl", "self,vader", "--mca", "btl_vader_single_copy_mechanism",
            "none", "-x", "OPENBLAS_NUM_THREADS=1", "-x", "OMP_NUM_THREADS=1",
        ]
        if let core = Self.openBLASCore(cpu) { args += ["-x", "OPENBLAS_CORETYPE=\(core)"] }
        return args + [hpcc]
    }

    /// The OpenBLAS kernel set to force where its CPUID detection would pick one the CPU cannot run:
    /// qemu's generic model (SSE2 and SSE3, no AVX) names an AMD family OpenBLAS takes for an Opteron,
    /// whose kernels use 3DNow! prefetches (an illegal instruction there); its plain SSE3 kernels
    /// (Prescott) are what such a CPU runs. `nil` where OpenBLAS's own choice stands.
    static func openBLASCore(_ cpu: CPUView) -> String? {
        cpu.isa < .avx && cpu.flags.contains("pni") ? "Prescott" : nil
    }

    /// Variables of the agent's environment that would choose the math library's kernels or threads
    /// for it (`OPENBLAS_CORETYPE=Haswell` left in a shell makes a native run slower than a
    /// container's, whose environment is clean): every placement's engine runs without them.
    static let inheritedTuning = ["OPENBLAS_", "GOTO", "OMP_", "MKL_", "BLIS_"]

    /// The engine's environment: the agent's without ``inheritedTuning``, with OpenBLAS asked to say
    /// which kernels it picked; and the names removed.
    static func environment(_ inherited: [String: String] = ProcessInfo.processInfo.environment) -> (
        [String: String], [String]
    ) {
        var env = inherited
        let removed = env.keys.filter { key in inheritedTuning.contains { key.hasPrefix($0) } }.sorted()
        for key in removed { env[key] = nil }
        env["OPENBLAS_VERBOSE"] = "2"
        return (env, removed)
    }

    /// The kernel set OpenBLAS reported (`Core: SkylakeX` on the ranks' output), if it did.
    static func blasCore(log: String) -> String? {
        log.split(separator: "\n").lazy.compactMap { line -> String? in
            guard let range = line.range(of: "Core: ") else { return nil }
            let core = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
            return core.isEmpty ? nil : core
        }.first
    }

    /// The BLAS library hpcc links (`libblas.so.3` resolved through Debian's alternatives).
    static func blasLibrary() -> String {
        let link = "/usr/lib/x86_64-linux-gnu/libblas.so.3"
        guard let resolved = realpath(link, nil) else { return "unknown BLAS" }
        defer { free(resolved) }
        let path = String(cString: resolved)
        let flavour = ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent
        return flavour == "blas" ? "reference BLAS (\(path))" : "\(flavour) (\(path))"
    }

    func start(atNs: Int64) {
        _ = EngineThread(name: "hpcc") { [self] in run(atNs: atNs) }
    }

    func requestStop() { stop.raise() }

    private func run(atNs: Int64) {
        let output = folder + "/hpccoutf.txt"
        try? FileManager.default.removeItem(atPath: output)  // hpcc appends to it
        let watch = ExternalRun(
            name: "hpcc", budgetNs: spec.completionBudgetNs ?? 3_600_000_000_000,
            stopRequested: { [stop] in stop.isRaised }, events: events)
        let (environment, removed) = Self.environment()
        guard
            let exit = watch.run(
                atNs: atNs,
                start: {
                    try ServerProcess.start(
                        mpirun, arguments, cpus: step.placement.sutCPUs, logPath: folder + "/mpirun.log",
                        workingDirectory: folder, environment: environment)
                })
        else { return }
        guard exit.status == "exited with status 0" else {
            return events(.failed(WireError(.serverFailed, "hpcc \(exit.status): \(exit.process.logTail())")))
        }
        do {
            let parsed = try HpccOutput.parse((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
            let command = ([mpirun] + arguments).joined(separator: " ")
            let seconds = Double(exit.endedNs - exit.startedNs) / 1e9
            var result = try HpccResult(
                output: parsed, engine: "hpcc \(parsed.version)", blas: Self.blasLibrary(), mpi: mpiVersion,
                command: command, ranks: ranks, seconds: seconds, cpu: cpu)
            result.blasCore = Self.blasCore(
                log: (try? String(contentsOfFile: folder + "/mpirun.log", encoding: .utf8)) ?? "")
            result.environmentRemoved = removed
            events(
                .finished(
                    SideResult(
                        startedNs: exit.startedNs, stoppedNs: exit.endedNs, windowStartNs: exit.startedNs,
                        windowEndNs: exit.endedNs, outcome: SideOutcome(result))))
        } catch let error as HpccOutputError {
            events(.failed(WireError(.serverFailed, "hpcc: \(error.message)")))
        } catch {
            events(.failed(WireError(.serverFailed, "hpcc: \(error)")))
        }
    }
}

extension HpccWorkload: EngineWorkload {
    /// hpcc under mpirun where the step is placed.
    static func engine(_ spec: HpccSpec, step: StepSpec, context: EngineContext) throws -> any Engine {
        try HpccEngine(spec, step: step, data: context.data, events: context.events)
    }
}
