import Foundation
import Shared
import TestSupport
import Testing

@testable import Coordinator

#if canImport(Glibc)
    import Glibc
#endif

/// The SUT agent runs in a Linux time namespace whose monotonic and boot clocks are 1000 s ahead:
/// a real, kernel-made clock offset that the coordinator must recover within its error bound.
extension Integration {
    @Suite struct TimeNamespaceTests {
        @Test func offsetOfAThousandSecondsIsRecoveredAndTheLogStaysInOrder() async throws {
            let scratch = Scratch()
            let (tokenPath, token) = try scratch.token()
            let shifted = try AgentProcess(
                name: "sut", tokenPath: tokenPath, scratch: scratch,
                prefix: [
                    "/usr/bin/unshare", "--fork", "--kill-child=SIGKILL", "--time", "--monotonic", "1000", "--boottime",
                    "1000",
                ])
            let peer = try AgentProcess(name: "peer", tokenPath: tokenPath, scratch: scratch)
            let out = scratch.path + "/run"
            let plan = RunPlan(
                sut: shifted.endpoint, peer: peer.endpoint, sutDataHost: "127.0.0.1", token: token,
                steps: [step(Workload(RRSpec(proto: .tcp)))],
                outDirectory: out, command: "test")
            let outcome = try #require(try await BenchmarkRun(plan: plan, progress: { _ in }).run().first)

            let trueOffset: Int64 = 1_000_000_000_000
            // Ground truth: the namespace's shift for the SUT, zero for the peer. The actual error of
            // every estimate is within its bound, and both are printed for the record.
            for side in outcome.sides {
                let truth = side.role == .sut ? trueOffset : 0
                for estimate in [side.clock.before, side.clock.after!] {
                    let actual = estimate.offsetNs - truth
                    print("clock \(side.name): actual error \(actual) ns, bound ±\(estimate.errorNs) ns")
                    #expect(
                        abs(actual) <= estimate.errorNs,
                        "\(side.name): offset \(estimate.offsetNs) ns is not within ±\(estimate.errorNs) ns of the truth"
                    )
                }
            }
            // The estimates came over the dedicated probe path with kernel timestamps on all four
            // times (the agent's send stamp interleaved into its next reply), whose bound is far below
            // the control channel's (tens of microseconds of event-loop wake-ups).
            let kernel = ClockStamps(
                t0: .kernelSoftwareSend, t1: .kernelSoftwareReceive, t2: .kernelSoftwareSend, t3: .kernelSoftwareReceive
            )
            for side in outcome.sides {
                #expect(side.clock.before.method == "udp-kernel-timestamps", "\(side.name)")
                #expect(side.clock.before.stamps == kernel, "\(side.name)")
                // Both clocks are the same oscillator: the fitted drift is zero within noise (a broken
                // fit, a unit or sign error, would show as thousands of ppm).
                let drift = try #require(side.clock.driftFit)
                #expect(abs(drift.ppm) < 5, "\(side.name): drift \(drift.ppm) ppm")
            }
            // With the offset applied, both agents started together on the coordinator's timeline (a
            // wrong offset would show as a 1000 s skew). 50 ms leaves room for scheduling outliers
            // (about 1 ms seen on two cores) without weakening that.
            #expect(outcome.startSkewNs < 50_000_000, "start skew \(outcome.startSkewNs) ns")
            // One-way delays read across the two clocks, 1000 s apart: each flight is a part of the
            // round trip (loopback is symmetric), the three parts add up to it, none came out
            // negative, and the bound is both agents' (well under a microsecond each here).
            let rtt = try #require(outcome.value("latency_mean_us"))
            let request = try #require(outcome.value("owd_request_mean_us"))
            let response = try #require(outcome.value("owd_response_mean_us"))
            let sutTime = try #require(outcome.value("sut_time_mean_us"))
            let bound = try #require(outcome.value("owd_bound_us"))
            print(
                "one-way: request \(request) us + SUT \(sutTime) us + response \(response) us, round trip \(rtt) us, bound ±\(bound) us"
            )
            #expect(abs(request + sutTime + response - rtt) <= 0.05 * rtt)
            #expect(
                request > 0.2 * rtt && response > 0.2 * rtt,
                "request \(request) us, response \(response) us of \(rtt) us")
            #expect(outcome.value("owd_clamped_transactions") == 0)
            #expect(bound > 0 && bound < 5)

            let run =
                try jsonObject(out + "/run.json")
            let sutClock = try #require((run["agents"] as? [[String: Any]])?.first?["clock"] as? [String: Any])
            let recorded = try #require(sutClock["offset_ns"] as? Int)
            #expect(abs(Int64(recorded) - trueOffset) <= Int64(sutClock["offset_error_ns"] as? Int ?? 0))
            #expect(sutClock["drift_method"] as? String == "fit")
            // Each agent says what its interface offers for timestamps (loopback: software only).
            let timestamping = (run["agents"] as? [[String: Any]])?.compactMap {
                ($0["host"] as? [String: Any])?["timestamping"] as? [String: Any]
            }
            #expect(timestamping?.count == 2)
            #expect(
                timestamping?.allSatisfy { $0["interface"] as? String == "lo" && $0["hardware"] as? Bool == false }
                    == true)
            // The skew row says how each agent spun into the start (root here: SCHED_FIFO).
            let skew = try jsonLines(out + "/samples.jsonl").first { $0["metric"] as? String == "start_skew_us" }
            #expect((skew?["labels"] as? [String: String])?["realtime_starts"] == "peer=fifo sut=fifo")
            #expect((sutClock["stamps"] as? [String: String])?["t2"] == "kernel-software-tx")

            let log = try jsonLines(out + "/merged-log.jsonl")
            #expect(log.allSatisfy { $0["t_ns"] is Int }, "a merged-log line without t_ns")
            let inversions = zip(log, log.dropFirst()).filter {
                ($0["t_ns"] as? Int ?? -1) > ($1["t_ns"] as? Int ?? -1)
            }
            #expect(inversions.isEmpty, "merged log out of order: \(inversions.map { "\($0) > \($1)" })")
            try expectCausalOrder(log, step: "rr-tcp-1", runDirectory: out)
            // The agent's own reading is kept beside the merged time, 1000 s apart.
            let sutRow = try #require(log.first { $0["host"] as? String == "sut" && $0["agent_t_ns"] != nil })
            #expect(
                abs((sutRow["agent_t_ns"] as? Int ?? 0) - (sutRow["t_ns"] as? Int ?? 0) - Int(trueOffset)) < 10_000_000)

            // Ending the wrapper must end the agent inside the namespace too: nothing may outlive the test.
            shifted.child.terminate(signal: SIGKILL)
            peer.child.terminate()
            try expectEventually(seconds: 5, "an agent outlived its test") { processes(mentioning: tokenPath).isEmpty }
        }
    }
}
