import CLockstepSys
import Shared

/// An external engine (fio, hpcc under mpirun, xz) run once for a step on the engine's own thread:
/// started at the step's instant, `.started` reported, watched until it exits (woken by the exit
/// itself, so the measured end is the engine's), and stopped with its process group on request or
/// when it outlives its budget. The caller reads the engine's output once it exited.
struct ExternalRun {
    /// The engine's name in messages (`fio job randread-4k-qd16`, `hpcc`).
    var name: String
    /// How long the engine may run after its start before it counts as hung.
    var budgetNs: Int64
    /// Whether the session asked the engine to end (abort, lost coordinator).
    var stopRequested: @Sendable () -> Bool
    /// Where `.started` and failures go.
    var events: EngineEventSink

    /// The process that exited and its start and end on the agent's clock.
    struct Exit {
        var process: ServerProcess
        var startedNs: Int64
        var endedNs: Int64
        /// `exited with status 0`, `killed by signal 9`.
        var status: String
    }

    /// Waits for `atNs`, starts the engine with `start`, watches it. Returns its exit, or `nil`
    /// after reporting why it failed (could not start, stopped, hung): then nothing of it is left.
    func run(atNs: Int64, start: () throws -> ServerProcess) -> Exit? {
        let startedNs = MonotonicClock.sleepThenSpin(until: atNs)
        let process: ServerProcess
        do {
            process = try start()
        } catch let error as WireError {
            events(.failed(error))
            return nil
        } catch {
            events(.failed(WireError(.serverFailed, "cannot start \(name): \(error)")))
            return nil
        }
        events(.started(startedNs))
        let limit = startedNs + budgetNs
        while process.exitDescription() == nil {
            if stopRequested() {
                process.stop(graceNs: 2_000_000_000)
                events(.failed(WireError(.aborted, "\(name) stopped before it ended")))
                return nil
            }
            if MonotonicClock.now() > limit {
                process.stop(graceNs: 2_000_000_000)
                events(
                    .failed(
                        WireError(.serverFailed, "\(name) did not end within \(budgetNs / 1_000_000_000) s (hung)")))
                return nil
            }
            _ = lockstep_wait_exit(process.pid, 50)
        }
        let endedNs = MonotonicClock.now()
        return Exit(process: process, startedNs: startedNs, endedNs: endedNs, status: process.exitDescription() ?? "")
    }
}
