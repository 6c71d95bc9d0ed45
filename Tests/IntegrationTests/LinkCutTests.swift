import Foundation
import Shared
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension Integration {
    /// Promise: a cut test link is detected. Three network namespaces (deploy/lab/netns-lab.sh),
    /// real agents in the SUT and peer namespaces, the CLI in the control namespace; the test link
    /// goes down mid-run. The run must fail naming the stalled data plane, not report zeros.
    /// Needs root (CI runs as root).
    @Suite struct LinkCutTests {
        @Test(arguments: [
            ("rr", ["--duration", "30s", "--warmup", "0"], "rr-tcp-1"),
            ("stream", ["--direction", "sut-tx", "--duration", "30s", "--warmup", "0"], "stream-sut-tx-1"),
        ])
        func aCutTestLinkFailsTheRunAsAStall(workload: String, options: [String], step: String) throws {
            let lab = try NamespaceLab(prefix: "lc", startAgents: true)
            let out = lab.scratch.path + "/run"
            let coordinator = try lab.coordinator(workload, options, out: out)
            try expectEventually(seconds: 15, "the step never started") {
                (try? String(contentsOfFile: out + "/merged-log.jsonl", encoding: .utf8)) == nil
                    && ((try? String(contentsOfFile: out + "/run.json", encoding: .utf8))?.contains("\"running\"")
                        ?? false)
            }
            Thread.sleep(forTimeInterval: 2)  // well into the measurement
            try lab.cutTestLink()
            let cutAt = Date()
            let status = try #require(coordinator.wait(seconds: 20), "the run did not notice the cut link")
            #expect(status == 1)
            #expect(Date().timeIntervalSince(cutAt) < 10, "noticed only after \(Date().timeIntervalSince(cutAt)) s")
            let lines = coordinator.stderr.split(separator: "\n").filter { $0.hasPrefix("lockstep: error:") }
            #expect(lines.count == 1, "\(coordinator.stderr)")
            #expect(lines.first?.contains("data-plane-stalled") == true, "\(coordinator.stderr)")
            #expect(lines.first?.contains(step) == true)
            // No zeros reported as results: the step has no summary samples, and it is marked failed.
            let samples = (try? jsonLines(out + "/samples.jsonl")) ?? []
            #expect(
                summaryValue(samples, workload == "rr" ? "transactions_per_sec" : "goodput_gbps", step: step) == nil)
            let run = try String(contentsOfFile: out + "/run.json", encoding: .utf8)
            #expect(run.contains("\"failed\""))
        }
    }
}
