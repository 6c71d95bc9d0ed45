import Foundation
import Shared
import TestSupport
import Testing

@testable import Coordinator

/// A workload registered from the test target runs through the real coordinator and agent code
/// (in process) with only a SUT, and lands in samples.jsonl, summary.csv, aggregates.jsonl and the
/// report, with no registry edited in Sources.
extension Integration {
    @Suite struct TestOnlyWorkloadTests {
        @Test func aSUTOnlyWorkloadRegisteredHereRunsEndToEnd() async throws {
            SpinWorkload.register()
            let scratch = Scratch()
            let token = try scratch.token().token
            let sut = try await InProcessAgent(name: "sut", token: token)
            let out = scratch.path + "/run"
            let spin = PlannedStep(
                Workload(SpinSpec()), timing: StepTiming(warmupNs: 100_000_000, durationNs: 1_200_000_000))
            // A plan of one cell, two repetitions, and no peer at all.
            var plan = RunPlan(
                sut: sut.endpoint, peers: [], sutDataHost: "127.0.0.1", token: token, steps: [spin],
                outDirectory: out, command: "test")
            plan.repetition = RepetitionRule(
                minimum: 2, maximum: 2, level: 0.95, widthPercent: 50, shuffle: false, seed: 1, cooldownNs: 0)
            let outcomes = try await BenchmarkRun(plan: plan, progress: { _ in }).run()
            await sut.shutdown()

            #expect(outcomes.map(\.stepID) == ["spin-native-r1", "spin-native-r2"])
            for outcome in outcomes {
                #expect(outcome.sides.map(\.role) == [.sut])
                let result = try #require(outcome.sut.result.outcome.as(SpinResult.self))
                #expect(result.iterations > 1000)
                // The SUT ended the window: its length is the duration, on its own clock.
                #expect(abs(outcome.windowSeconds - 1.2) < 0.05)
                #expect(!outcome.sut.intervals.isEmpty)
            }

            let samples = try jsonLines(out + "/samples.jsonl")
            let rate = try #require(summaryValue(samples, "iterations_per_sec", step: "spin-native-r1"))
            #expect(rate > 1000)
            let rateSample = try #require(
                samples.first { $0["metric"] as? String == "iterations_per_sec" && label($0, "kind") == nil })
            #expect(rateSample["unit"] as? String == "iterations/s")
            #expect(label(rateSample, "workload") == "spin")
            #expect(summaryValue(samples, "sut_cpu_us_per_op", step: "spin-native-r1") != nil)
            // Per-second rows use the workload's own rate metric.
            #expect(
                samples.contains { label($0, "kind") == "interval" && $0["metric"] as? String == "iterations_per_sec" })

            let aggregates = try jsonLines(out + "/aggregates.jsonl")
            let headline = try #require(aggregates.first { $0["metric"] as? String == "iterations_per_sec" })
            #expect(headline["cell"] as? String == "spin-native")
            #expect(headline["workload"] as? String == "spin")
            #expect(headline["unit"] as? String == "iterations/s")
            #expect(headline["headline"] as? Bool == true)
            #expect(headline["n"] as? Int == 2)

            let csv = try String(contentsOfFile: out + "/summary.csv", encoding: .utf8)
            #expect(csv.contains("spin-native,spin,native,iterations_per_sec,iterations/s,true,2,"))

            let run = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/run.json")))
            let info = try #require(run as? [String: Any])
            #expect(info["status"] as? String == "complete")
            let planned = try #require(info["plan"] as? [[String: Any]])
            #expect(
                (planned.first?["spec"] as? [String: Any]).flatMap { $0["workload"] as? [String: Any] }?["spin"] != nil)

            let page = try String(
                contentsOfFile: try ReportCommand.write([out], to: out + "/report.html"), encoding: .utf8)
            #expect(page.contains("id=\"figure-spin\""))
            #expect(page.contains("data-metric=\"iterations_per_sec\""))
        }

        @Test func aStepThatNeedsAPeerIsRefusedWithoutOne() async throws {
            let scratch = Scratch()
            let token = try scratch.token().token
            let sut = try await InProcessAgent(name: "sut", token: token)
            let plan = RunPlan(
                sut: sut.endpoint, peers: [], sutDataHost: "127.0.0.1", token: token,
                steps: [step(Workload(RRSpec()))], outDirectory: scratch.path + "/run", command: "test")
            let error = await #expect(throws: WireError.self) {
                _ = try await BenchmarkRun(plan: plan, progress: { _ in }).run()
            }
            await sut.shutdown()
            #expect(error?.message.contains("needs at least one peer") == true)
        }

        private func label(_ sample: [String: Any], _ key: String) -> String? {
            (sample["labels"] as? [String: String])?[key]
        }
    }
}
