import Foundation
import Shared
import TestSupport
import Testing

@testable import Agent
@testable import Coordinator

extension Integration {
    /// Bulk transfer between in-process agents on loopback, both directions, and the CPU meter.
    @Suite struct StreamRunTests {
        @Test func bothDirectionsMoveDataAndReportCPUCost() async throws {
            let pair = try await InProcessPair()
            let out = pair.scratch.path + "/run"
            let outcomes = try await pair.run(
                steps: [
                    step(Workload(StreamSpec(direction: .sutTx)), durationNs: 1_500_000_000),
                    step(
                        Workload(StreamSpec(direction: .sutRx, streams: 2, bufferSize: 131_072)),
                        durationNs: 1_500_000_000),
                ], out: out)
            await pair.shutdown()

            #expect(outcomes.map(\.stepID) == ["stream-sut-tx-1", "stream-sut-rx-2"])
            for outcome in outcomes {
                let goodput = try #require(outcome.value("goodput_gbps"))
                #expect(goodput > 0.5, "\(outcome.stepID): \(goodput) Gbit/s")
                #expect(outcome.value("retransmits") != nil)
                let cpu = try #require(outcome.sut.result.cpu)
                #expect(cpu.busySeconds > 0.1)
                #expect(abs(cpu.wallSeconds - 1.5) < 0.1, "the meter must cover the window, got \(cpu.wallSeconds) s")
                #expect(["perf_event", "estimated-cpu-mhz"].contains(cpu.cyclesSource))
                #expect((outcome.value("sut_cycles_per_byte") ?? 0) > 0)
                #expect(outcome.peer.result.cpu != nil)
            }
            // sut-tx: the peer received; sut-rx: the SUT received.
            guard let received = outcomes[0].peer.result.outcome.as(StreamReceiverResult.self),
                outcomes[0].sut.result.outcome.as(StreamSenderResult.self) != nil,
                let receivedBack = outcomes[1].sut.result.outcome.as(StreamReceiverResult.self),
                let sent = outcomes[1].peer.result.outcome.as(StreamSenderResult.self)
            else {
                Issue.record("sender and receiver results on the wrong sides")
                return
            }
            #expect(received.bytes > 0 && receivedBack.bytes > 0)
            #expect(sent.load.threads == 2 && received.load.threads == 1)

            let samples = try jsonLines(out + "/samples.jsonl")
            for metric in [
                "goodput_gbps", "bytes", "retransmits", "sut_cpu_util_pct", "sut_cpu_seconds", "sut_cpu_accounted_pct",
                "sut_cycles_per_byte", "peer_cpu_util_pct",
            ] {
                for step in ["stream-sut-tx-1", "stream-sut-rx-2"] {
                    #expect(summaryValue(samples, metric, step: step) != nil, "missing \(metric) in \(step)")
                }
            }
            let cyclesRow = samples.first { $0["metric"] as? String == "sut_cycles_per_byte" }
            let labels = try #require(cyclesRow?["labels"] as? [String: String])
            #expect(labels["direction"] == "sut-tx")
            #expect(labels["host"] == "sut")
            #expect(labels["cycles_source"] != nil)
            #expect(
                samples.contains {
                    $0["metric"] as? String == "goodput_gbps"
                        && ($0["labels"] as? [String: String])?["kind"] == "interval"
                })
            let summary = try String(contentsOfFile: out + "/summary.csv", encoding: .utf8)
            #expect(summary.hasPrefix("step,workload,verdict,goodput_gbps"))
            #expect(!FileManager.default.fileExists(atPath: out + "/histograms/stream-sut-tx-1.hgrm"))
        }

        @Test func meterSeesAKnownLoad() async throws {
            // One thread spinning for the whole window is one CPU-second per second, give or take the rest of the machine.
            let stop = StopFlag()
            let spinner = EngineThread(name: "spin") {
                while !stop.isRaised {}
            }
            let start = MonotonicClock.now() + 100_000_000
            let meter = CPUMeter(startNs: start, endNs: start + 1_000_000_000)
            try await Task.sleep(for: .milliseconds(1200))
            let usage = try #require(meter.finish())
            stop.raise()
            spinner.join()
            #expect(usage.busySeconds >= 0.9, "a spinning thread must show as busy, got \(usage.busySeconds) s")
            #expect(usage.busySeconds <= Double(usage.cpus) * usage.wallSeconds + 0.05)
            #expect(abs(usage.wallSeconds - 1.0) < 0.05)
            #expect(usage.meterReadNs > 0 && usage.meterReadNs < 50_000_000)
        }

        @Test func meterStoppedBeforeItsWindowHasNoResult() {
            let meter = CPUMeter(
                startNs: MonotonicClock.now() + 10_000_000_000, endNs: MonotonicClock.now() + 20_000_000_000)
            #expect(meter.finish() == nil)
        }

        @Test(arguments: [
            ("64KiB", 65_536), ("1MiB", 1_048_576), ("5G", 5_000_000_000), ("800M", 800_000_000), ("4096", 4096),
        ])
        func sizeArguments(_ text: String, _ bytes: Int) {
            #expect(SizeArgument(argument: text)?.bytes == bytes)
        }
    }
}
