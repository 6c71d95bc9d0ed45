import Foundation
import Shared
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension Integration {
    /// An agent that comes back: a peer agent killed and restarted between two steps is connected
    /// afresh and the run goes on; one killed during a step fails that step, which runs again. Both
    /// are counted in run.json, and no step's results are written twice.
    @Suite(.serialized) struct ReconnectTests {
        /// Four steps with a 3 s pause between them (a plan's cooldown), so that a restart falls
        /// between two steps.
        static let plan = """
            modes: [native]
            repetitions: {min: 1, max: 1}
            order: sequential
            cooldown: 3s
            experiments:
              - rr: {protocol: [tcp, udp], flows: [1, 2], duration: 1500ms, warmup: 0s}

            """

        /// Runs the plan against a SUT and a peer agent, kills the peer (kill -9) once `moment` says
        /// so from the steps' statuses in run.json and starts it again on the same port.
        func run(_ scratch: Scratch, at moment: @escaping ([String: String]) -> Bool) throws -> (
            code: Int32?, stderr: String, dir: String
        ) {
            let token = try scratch.token().path
            let sut = try AgentProcess(name: "sut", tokenPath: token, scratch: scratch)
            var peer = try AgentProcess(name: "peer", tokenPath: token, scratch: scratch)
            let planPath = scratch.path + "/plan.yaml"
            try Self.plan.write(toFile: planPath, atomically: true, encoding: .utf8)
            let dir = scratch.path + "/run"
            let coordinator = try ChildProcess(
                Binaries.coordinator,
                [
                    "run", planPath, "--sut", sut.endpoint.description, "--peer", peer.endpoint.description,
                    "--token-file", token, "--out", dir, "--reconnect-wait", "10s",
                ], scratch: scratch, label: "coordinator")
            try expectEventually(seconds: 40, "the moment to kill the peer never came: \(ResumeTests.stepStatus(dir))")
            {
                moment(ResumeTests.stepStatus(dir))
            }
            peer.child.terminate(signal: SIGKILL)
            _ = peer.child.wait(seconds: 5)
            peer = try AgentProcess(name: "peer", tokenPath: token, scratch: scratch, port: peer.endpoint.port)
            let code = coordinator.wait(seconds: 90)
            peer.child.terminate()
            sut.child.terminate()
            return (code, coordinator.stderr, dir)
        }

        @Test func aPeerRestartedBetweenStepsIsConnectedAfreshAndTheRunGoesOn() throws {
            let scratch = Scratch()
            // Step 1 finished, step 2 not begun: the cooldown.
            let (code, stderr, dir) = try run(scratch) { status in
                status.count == 1 && status.values.first == "complete"
            }
            #expect(code == 0, "\(stderr)")
            #expect(stderr.contains("went away: connecting afresh") && stderr.contains("reconnected peer agent"))
            let info = try ResumeTests.runInfo(dir)
            #expect(info["reconnects"] as? Int == 1)
            #expect(info["steps_redone"] == nil, "\(info["steps_redone"] ?? "")")
            #expect(info["status"] as? String == "complete")
            let steps = try ResumeTests.summaries(dir)
            #expect(steps.count == 4 && steps.values.allSatisfy { $0["transactions_per_sec"] != nil })
        }

        @Test func aPeerRestartedDuringAStepFailsThatStepWhichRunsAgain() throws {
            let scratch = Scratch()
            // Step 2 running, half a second in.
            var since: Date?
            let (code, stderr, dir) = try run(scratch) { status in
                guard status.values.contains("running"), status.count == 2 else { return false }
                since = since ?? Date()
                return Date().timeIntervalSince(since!) > 0.7
            }
            #expect(code == 0, "\(stderr)")
            #expect(stderr.contains("running the step again"), "\(stderr)")
            let info = try ResumeTests.runInfo(dir)
            #expect((info["reconnects"] as? Int ?? 0) >= 1)
            #expect((info["steps_redone"] as? Int ?? 0) >= 1)
            #expect(info["status"] as? String == "complete")
            let entries = info["steps"] as? [[String: Any]] ?? []
            let failed = entries.filter { $0["status"] as? String == "failed" }.compactMap { $0["id"] as? String }
            let complete = entries.filter { $0["status"] as? String == "complete" }.compactMap { $0["id"] as? String }
            #expect(failed.count >= 1 && Set(complete).count == 4, "\(entries)")
            #expect(failed.allSatisfy { complete.contains($0) })
            // Each step's results once (summaries fails on a metric written twice).
            let steps = try ResumeTests.summaries(dir)
            #expect(steps.count == 4, "\(steps.keys)")
        }
    }
}
