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
    }
}
