import Foundation
import Shared
import TestSupport
import Testing

@testable import Coordinator

/// The coordinator against two agents served in this process: the whole lifecycle, no child processes.
extension Integration {
    @Suite struct InProcessRunTests {
        @Test func tcpAndUdpStepsWriteEveryResultFile() async throws {
            let pair = try await InProcessPair()
            let out = pair.scratch.path + "/run"
            let outcomes = try await pair.run(
                steps: [
                    step(Workload(RRSpec(proto: .tcp))),
                    step(Workload(RRSpec(proto: .udp, requestSize: 64, responseSize: 1024, flows: 2))),
                ], out: out)
            await pair.shutdown()

            #expect(outcomes.map(\.stepID) == ["rr-tcp-1", "rr-udp-2"])
            for outcome in outcomes {
                let rr = try outcome.rr()
                #expect(rr.transactions > 100)
                #expect(rr.latency.histogram().totalCount == rr.transactions)
                #expect(rr.load.threads == (outcome.stepID == "rr-tcp-1" ? 1 : 2))
                #expect(rr.load.cpuSeconds > 0)
                // The window is the configured duration, measured on the peer's own clock.
                #expect(abs(outcome.windowSeconds - 1.0) < 0.05)
                // One interval sample per second of warm-up + window, give or take the last partial one.
                #expect((1...3).contains(outcome.peer.intervals.count))
                // The responder reports what it served (warm-up included), the flows what was inside the window.
                guard let served = outcome.sut.result.outcome.as(RRServerResult.self) else {
                    Issue.record("the SUT sent no responder result")
                    continue
                }
                #expect(served.served >= rr.transactions)
            }
            let samples = try jsonLines(out + "/samples.jsonl")
            for metric in [
                "transactions_per_sec", "transactions", "latency_mean_us", "latency_p50_us", "latency_p90_us",
                "latency_p99_us", "latency_p999_us", "latency_max_us", "lost_transactions", "start_skew_us",
                "clock_offset_error_us",
            ] {
                #expect(summaryValue(samples, metric, step: "rr-tcp-1") != nil, "missing \(metric)")
                #expect(summaryValue(samples, metric, step: "rr-udp-2") != nil, "missing \(metric)")
            }
            let tps = try #require(summaryValue(samples, "transactions_per_sec", step: "rr-tcp-1"))
            #expect(tps == outcomes[0].value("transactions_per_sec"))
            let p50 = try #require(summaryValue(samples, "latency_p50_us", step: "rr-tcp-1"))
            let p99 = try #require(summaryValue(samples, "latency_p99_us", step: "rr-tcp-1"))
            #expect(p50 > 0 && p50 <= p99)
            #expect(samples.contains { ($0["labels"] as? [String: String])?["kind"] == "interval" })

            let summary = try String(contentsOfFile: out + "/summary.csv", encoding: .utf8).split(separator: "\n")
            #expect(summary.count == 3)
            #expect(summary[0].hasPrefix("step,workload,verdict,transactions_per_sec,transactions,latency_mean_us"))
            // Every step has a verdict, in summary.csv and in run.json with its checks.
            #expect(summary[1].hasPrefix("rr-tcp-1,rr,valid,") || summary[1].hasPrefix("rr-tcp-1,rr,suspect,"))
            #expect(summary[2].hasPrefix("rr-udp-2,rr,"))
            // CPU is metered for RR too.
            #expect(summaryValue(samples, "sut_cpu_util_pct", step: "rr-tcp-1") != nil)
            #expect(summaryValue(samples, "peer_cpu_util_pct", step: "rr-tcp-1") != nil)
            for step in ["rr-tcp-1", "rr-udp-2"] {
                let hgrm = try String(contentsOfFile: "\(out)/histograms/\(step).hgrm", encoding: .utf8)
                #expect(hgrm.contains("Percentile"))
                #expect(hgrm.contains("#[Mean"))
            }

            let run =
                try jsonObject(out + "/run.json")
            #expect(run["status"] as? String == "complete")
            let agents = try #require(run["agents"] as? [[String: Any]])
            #expect(agents.map { $0["role"] as? String } == ["sut", "peer"])
            for agent in agents {
                let clock = try #require(agent["clock"] as? [String: Any])
                // Same host, same clock: the true offset is 0, so it must lie within the error bound.
                let offset = try #require(clock["offset_ns"] as? Int)
                let error = try #require(clock["offset_error_ns"] as? Int)
                #expect(abs(offset) <= error)
                #expect(clock["offset_after_ns"] is Int)
                #expect(clock["drift_ppm"] is Double)
            }

            let log = try jsonLines(out + "/merged-log.jsonl")
            let times = log.map { $0["t_ns"] as? Int ?? -1 }
            #expect(!times.contains(-1), "a merged-log line without t_ns")
            #expect(times == times.sorted())
            #expect(Set(log.compactMap { $0["host"] as? String }) == ["coordinator", "sut", "peer"])
            try expectCausalOrder(log, step: "rr-tcp-1", runDirectory: out)
        }

        @Test func secondCoordinatorIsToldTheAgentIsBusy() async throws {
            let scratch = Scratch()
            let token = try scratch.token().token
            let agent = try await InProcessAgent(name: "sut", token: token)
            let holder = try RawClient(agent.endpoint)
            guard case .message(.authenticated) = try await holder.authenticate(token: token) else {
                Issue.record("first session did not authenticate")
                return
            }
            let session = LabSession(token: token, log: RunLog(runID: "t"))
            let error = await #expect(throws: WireError.self) { try await session.connect([(.sut, agent.endpoint)]) }
            withExtendedLifetime(holder) {}
            #expect(error?.code == .busy)
            #expect(error?.message.contains("busy") == true)
            await session.close()
            await agent.shutdown()
        }

        @Test func aCoordinatorWaitsForASessionThatIsEndingWhenAskedTo() async throws {
            let scratch = Scratch()
            let token = try scratch.token().token
            let agent = try await InProcessAgent(name: "sut", token: token)
            var holder: RawClient? = try RawClient(agent.endpoint)
            guard case .message(.authenticated) = try await holder!.authenticate(token: token) else {
                Issue.record("first session did not authenticate")
                return
            }
            let session = LabSession(token: token, log: RunLog(runID: "t"))
            let told = LockedValue(0)
            let release = Task {
                try await Task.sleep(nanoseconds: 1_000_000_000)
                holder = nil  // the first session ends: its connection closes
            }
            try await session.connect(
                [(.sut, agent.endpoint)], busyWaitNs: 10_000_000_000, onBusy: { _ in told.withLock { $0 += 1 } })
            _ = try await release.value
            #expect(session.agents.count == 1)
            #expect(told.value == 1, "the wait is announced once")
            await session.close()
            await agent.shutdown()
        }

        @Test func unreachableAgentIsOneClearErrorQuickly() async throws {
            let scratch = Scratch()
            let token = try scratch.token().token
            let port = try freePort()
            let session = LabSession(token: token, log: RunLog(runID: "t"))
            let start = Date()
            let error = await #expect(throws: WireError.self) {
                try await session.connect([(.sut, Endpoint(host: "127.0.0.1", port: port))])
            }
            #expect(error?.code == .unreachable)
            #expect(error?.message.contains("127.0.0.1:\(port)") == true)
            #expect(Date().timeIntervalSince(start) < 5, "an unreachable agent must not hang the coordinator")
            await session.close()
        }
    }
}

/// Events that cause each other must appear in cause-then-effect order on the merged timeline, up
/// to the step's clock error bound (`clock_offset_error_ns` in `run.json`): an agent's time is only
/// known within that bound, so an effect one short network hop after its cause may land up to the
/// bound before it (seen: 46 us, with a 250 us bound, in debug builds). A wrong offset is off by
/// far more.
func expectCausalOrder(
    _ log: [[String: Any]], step: String, runDirectory: String, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let run =
        try jsonObject(runDirectory + "/run.json")
    let stepInfo = (run["steps"] as? [[String: Any]])?.first { $0["id"] as? String == step }
    let tolerance = try #require(
        stepInfo?["clock_offset_error_ns"] as? Int, "no clock error bound for \(step)", sourceLocation: sourceLocation)
    func time(_ host: String, _ event: String, agent: String? = nil) throws -> Int {
        let row = log.first {
            $0["host"] as? String == host && $0["event"] as? String == event && $0["step"] as? String == step
                && (agent == nil || ($0["fields"] as? [String: String])?["agent"] == agent)
        }
        return try #require(row?["t_ns"] as? Int, "no \(event) of \(host) in \(step)", sourceLocation: sourceLocation)
    }
    let chains: [[(String, String, String?)]] = [
        [
            ("coordinator", "step.prepare.sent", "sut"), ("sut", "step.prepare", nil), ("sut", "step.ready", nil),
            ("coordinator", "step.ready", "sut"),
        ],
        [
            ("coordinator", "step.ready", "sut"), ("peer", "step.prepare", nil), ("peer", "step.ready", nil),
            ("coordinator", "step.ready", "peer"),
        ],
        [("coordinator", "step.start.sent", nil), ("sut", "step.start.received", nil), ("sut", "step.started", nil)],
        [
            ("coordinator", "step.start.sent", nil), ("peer", "step.start.received", nil),
            ("peer", "step.started", nil),
            ("peer", "step.finished", nil), ("coordinator", "step.finished.received", "peer"),
        ],
        [
            ("coordinator", "step.stop.sent", "sut"), ("sut", "step.stop.received", nil),
            ("coordinator", "step.done", nil),
        ],
    ]
    for chain in chains {
        let times = try chain.map { try time($0.0, $0.1, agent: $0.2) }
        let backwards = zip(times, times.dropFirst()).map { $0 - $1 }.max() ?? 0
        #expect(
            backwards <= tolerance,
            "out of order by \(backwards) ns (bound \(tolerance) ns): \(chain.map { "\($0.0) \($0.1)" }) at \(times)",
            sourceLocation: sourceLocation)
    }
}
