import Foundation
import Shared
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Block I/O on the SUT: Debian's fio, run as the agent's child (pinned to the placement's SUT
/// CPUs, killed with the agent) against a file in the session's data folder. Prepare lays the file
/// out once per session and size, checked from fio's JSON; the start runs the step's job at the
/// step's instant, and the result is fio's JSON decoded into a ``FioResult``: fio's exit status is
/// never the only sign of success. A stop (abort, lost coordinator) kills fio and fails the step;
/// so does a fio that does not end within the window and 10 s.
final class FioEngine: Engine, @unchecked Sendable {
    let endpoint: Endpoint? = nil
    private let spec: FioSpec
    private let step: StepSpec
    private let events: EngineEventSink
    private let fio: String
    private let folder: String
    private let file: String
    private let prefillBytes: UInt64
    private let stop = StopFlag()

    /// How long fio may run past the step's warm-up and window before it counts as hung.
    static let graceNs: Int64 = 10_000_000_000

    init(_ spec: FioSpec, step: StepSpec, data: SessionData, events: @escaping EngineEventSink) throws {
        guard let fio = Executable.find("fio") else {
            throw WireError(.badStep, "fio is not installed on this host: apt-get install fio")
        }
        self.spec = spec
        self.step = step
        self.events = events
        self.fio = fio
        folder = try data.folder(storageDir: step.placement.storageDir)
        file = "\(folder)/fio-\(spec.size).dat"
        prefillBytes = try Self.prefill(spec, fio: fio, file: file, folder: folder, cpus: step.placement.sutCPUs)
    }

    /// Lays the file out with a sequential write of its whole size unless the session already did;
    /// the bytes written, checked from fio's JSON.
    private static func prefill(_ spec: FioSpec, fio: String, file: String, folder: String, cpus: [Int]?) throws
        -> UInt64
    {
        if let size = try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber,
            size.intValue >= spec.size
        {
            return 0
        }
        let output = "\(folder)/prefill-\(spec.size).json"
        let process = try ServerProcess.start(
            fio, FioCommandLine.prefill(spec, file: file, output: output), cpus: cpus, logPath: "\(folder)/prefill.log")
        let deadline = MonotonicClock.now() + spec.prepareBudgetNs - 10_000_000_000
        while process.exitDescription() == nil && MonotonicClock.now() < deadline { usleep(20_000) }
        if process.exitDescription() == nil {
            process.stop()
            throw WireError(.serverFailed, "fio's prefill of \(file) did not finish in time")
        }
        let report: FioReport
        do {
            report = try FioReport.decode((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
        } catch let error as FioReportError {
            throw WireError(
                .serverFailed,
                "fio's prefill of \(file) (\(process.exitDescription() ?? "")): \(error.message); \(process.logTail())")
        }
        guard let job = report.jobs.first, job.error == 0, job.write.ioBytes >= UInt64(spec.size),
            job.write.shortIOs == 0
        else {
            let written = report.jobs.first?.write.ioBytes ?? 0
            throw WireError(
                .serverFailed,
                "fio's prefill wrote \(written) of \(spec.size) bytes to \(file) (error \(report.jobs.first?.error ?? -1)); "
                    + process.logTail())
        }
        return job.write.ioBytes
    }

    func start(atNs: Int64) {
        _ = EngineThread(name: "fio") { [self] in run(atNs: atNs) }
    }

    func requestStop() { stop.raise() }

    private func run(atNs: Int64) {
        let output = "\(folder)/\(step.stepID).json"
        try? FileManager.default.removeItem(atPath: output)
        let arguments = FioCommandLine.job(spec, timing: step.timing, file: file, output: output)
        let watch = ExternalRun(
            name: "fio job \(spec.job.name)", budgetNs: step.timing.totalNs + Self.graceNs,
            stopRequested: { [stop] in stop.isRaised }, events: events)
        guard
            let exit = watch.run(
                atNs: atNs,
                start: {
                    try ServerProcess.start(
                        fio, arguments, cpus: step.placement.sutCPUs, logPath: "\(folder)/\(step.stepID).log")
                })
        else { return }
        finish(exit, arguments: arguments, output: output)
    }

    /// Reads fio's JSON once it exited: the step's result, or one line naming the job.
    private func finish(_ exit: ExternalRun.Exit, arguments: [String], output: String) {
        let (started, stopped) = (exit.startedNs, exit.endedNs)
        guard exit.status == "exited with status 0" else {
            return events(
                .failed(WireError(.serverFailed, "fio job \(spec.job.name) \(exit.status): \(exit.process.logTail())")))
        }
        do {
            let report = try FioReport.decode((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
            let command = ([fio] + arguments).map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
            let result = try FioResult(report: report, spec: spec, command: command, prefillBytes: prefillBytes)
            let runtimeMs = max(result.read?.runtimeMs ?? 0, result.write?.runtimeMs ?? 0)
            let windowStart = started + step.timing.warmupNs
            events(
                .finished(
                    SideResult(
                        startedNs: started, stoppedNs: stopped, windowStartNs: windowStart,
                        windowEndNs: windowStart + Int64(runtimeMs) * 1_000_000, outcome: SideOutcome(result))))
        } catch let error as FioReportError {
            events(.failed(WireError(.serverFailed, "fio job \(spec.job.name): \(error.message)")))
        } catch {
            events(.failed(WireError(.serverFailed, "fio job \(spec.job.name): \(error)")))
        }
    }
}
