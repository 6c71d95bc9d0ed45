import Foundation
import Shared
import TestSupport
import Testing

@testable import Coordinator

#if canImport(Glibc)
    import Glibc
#endif

/// Verdicts on real runs: a busy process beside the agents fails quiet-host and is named, `--strict`
/// then exits 3, and `lockstep check` computes the same verdict again from the results folder.
extension Integration {
    @Suite struct VerdictRunTests {
        @Test func aBusyProcessBesideTheStepFailsQuietHostIsNamedAndStrictExitsThree() throws {
            let lab = try Lab()
            let out = lab.scratch.path + "/noisy"
            // A busy loop beside the agents (a child of this test process, not of an agent), ended by its PID.
            let busy = try ChildProcess(
                "/usr/bin/env", ["python3", "-c", "import time\nt = time.time()\nwhile time.time() - t < 30: pass"],
                scratch: lab.scratch, label: "busy")
            defer { busy.terminate(signal: SIGKILL) }
            let hog = busy.pid
            let run = try lab.rr(["--duration", "2s", "--warmup", "500ms", "--strict"], out: out)
            #expect(run.wait(seconds: 60) == 3, "stderr: \(run.stderr)")
            #expect(run.stderr.contains("lockstep: suspect: rr-tcp-1"), "\(run.stderr)")
            #expect(run.stdout.contains("SUSPECT"), "\(run.stdout)")
            let info = try jsonObject(out + "/run.json")
            let step = try #require((info["steps"] as? [[String: Any]])?.first)
            #expect(step["verdict"] as? String == "suspect")
            let checks = try #require(step["checks"] as? [[String: Any]])
            #expect(
                checks.map { $0["name"] as? String } == [
                    "generator-headroom", "too-short", "arrivals", "independence", "steady-state", "sample-size",
                    "quiet-host",
                ])
            let quiet = try #require(checks.first { $0["name"] as? String == "quiet-host" })
            #expect(quiet["passed"] as? Bool == false)
            let named = (quiet["processes"] as? [[String: Any]] ?? []).compactMap { $0["pid"] as? Int }
            #expect(named.contains(Int(hog)), "\(quiet)")
            // Samples carry the verdict; `lockstep check` computes it again from checks/<step>.json.
            let samples = try jsonLines(out + "/samples.jsonl")
            #expect(samples.allSatisfy { ($0["labels"] as? [String: String])?["verdict"] == "suspect" })
            let again = try CheckCommand.judge(out)
            #expect(again.count == 1)
            #expect(again[0].checks?.first { $0.name == "quiet-host" }?.passed == false)
            #expect(CheckCommand.render(again).contains("suspect  quiet-host"))
        }
        /// `--retry-suspect 1`: a step whose window is too short runs once more with a longer one; the
        /// first attempt is kept in run.json with what changed, the second is the step's result.
        @Test func aSuspectStepRunsAgainWithALongerWindowAndKeepsItsFirstAttempt() async throws {
            let pair = try await InProcessPair()
            let out = pair.scratch.path + "/retry"
            var plan = RunPlan(
                sut: pair.sut.endpoint, peer: pair.peer.endpoint, sutDataHost: "127.0.0.1", token: pair.token,
                steps: [
                    PlannedStep(
                        Workload(RRSpec(proto: .tcp)),
                        timing: StepTiming(warmupNs: 200_000_000, durationNs: 500_000_000),
                        placement: Placement())
                ], outDirectory: out, command: "test")
            plan.retrySuspect = 1
            let outcomes = try await BenchmarkRun(plan: plan, progress: { _ in }).run()
            await pair.shutdown()
            #expect(outcomes.count == 1)
            // The recorded step ran the 2 s window the too-short check asks for.
            #expect(abs(try #require(outcomes.first).windowSeconds - 2) < 0.1)
            let info = try jsonObject(out + "/run.json")
            let steps = try #require(info["steps"] as? [[String: Any]])
            #expect(steps.count == 1)
            let attempts = try #require(steps[0]["suspect_attempts"] as? [[String: Any]])
            #expect(attempts.count == 1)
            #expect((attempts[0]["adjusted"] as? String) == "window 0.5s -> 2s")
            let first = try #require(attempts[0]["checks"] as? [[String: Any]])
            #expect(first.contains { $0["name"] as? String == "too-short" && $0["passed"] as? Bool == false })
            let last = try #require(steps[0]["checks"] as? [[String: Any]])
            #expect(last.contains { $0["name"] as? String == "too-short" && $0["passed"] as? Bool == true })
        }
    }
}
