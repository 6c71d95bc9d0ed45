import Foundation
import Shared
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
        /// A lab of namespaces named after this process, removed at the end.
        final class NamespaceLab {
            let name = "lc\(getpid() % 100_000)"
            let scratch = Scratch()
            let tokenPath: String
            var agents: [ChildProcess] = []
            static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
                    "deploy/lab/netns-lab.sh"
                ).path

            init() throws {
                tokenPath = try scratch.token().path
                let up = try ChildProcess(Self.script, ["up", name], scratch: scratch, label: "lab-up")
                guard up.wait(seconds: 30) == 0 else { throw LabError(description: "lab up failed: \(up.stderr)") }
                for (role, address) in [("sut", "198.18.0.2:7470"), ("peer", "198.18.0.3:7470")] {
                    agents.append(
                        try ChildProcess(
                            Binaries.agent,
                            ["serve", "--listen", address, "--token-file", tokenPath, "--name", role],
                            prefix: ["/usr/sbin/ip", "netns", "exec", "\(name)-\(role)"], scratch: scratch,
                            label: "agent-\(role)"))
                }
                Thread.sleep(forTimeInterval: 1)
            }

            deinit {
                agents.forEach { $0.terminate(signal: SIGKILL) }
                let down = try? ChildProcess(Self.script, ["down", name], scratch: scratch, label: "lab-down")
                _ = down?.wait(seconds: 30)
            }

            /// The `lockstep` CLI in the control namespace against the lab's agents, data over the test link.
            func coordinator(_ workload: String, _ extra: [String], out: String) throws -> ChildProcess {
                try ChildProcess(
                    Binaries.coordinator,
                    [
                        workload, "--sut", "198.18.0.2:7470", "--peer", "198.18.0.3:7470", "--sut-data", "198.19.0.2",
                        "--token-file", tokenPath, "--out", out,
                    ] + extra,
                    prefix: ["/usr/sbin/ip", "netns", "exec", "\(name)-ctl"], scratch: scratch, label: "coordinator")
            }

            func cutTestLink() throws {
                let cut = try ChildProcess(
                    "/usr/sbin/ip", ["-n", "\(name)-sut", "link", "set", "\(name)-t", "down"], scratch: scratch,
                    label: "cut")
                guard cut.wait(seconds: 10) == 0 else { throw LabError(description: "cut failed: \(cut.stderr)") }
            }

            struct LabError: Error, CustomStringConvertible { let description: String }
        }

        @Test(arguments: [
            ("rr", ["--duration", "30s", "--warmup", "0"], "rr-tcp-1"),
            ("stream", ["--direction", "sut-tx", "--duration", "30s", "--warmup", "0"], "stream-sut-tx-1"),
        ])
        func aCutTestLinkFailsTheRunAsAStall(workload: String, options: [String], step: String) throws {
            let lab = try NamespaceLab()
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
