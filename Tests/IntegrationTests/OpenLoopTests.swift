import Foundation
import Shared
import TestSupport
import Testing

@testable import Coordinator

#if canImport(Glibc)
    import Glibc
#endif

extension Integration {
    /// Open loop (`--rate`): requests leave at their intended times and are timed from them, so a
    /// server that stops shows in the latency of every request it held up; a closed loop at the same
    /// connections hides it. A sweep of rates stops where the achieved rate falls short.
    @Suite(.serialized) struct OpenLoopTests {
        /// redis-server stopped for 50 ms of every second: the open loop's p99 holds the stalls (about
        /// 5% of the requests waited up to 50 ms), the closed loop's does not.
        @Test func aStalledRedisShowsInTheOpenLoopsP99AndNotInTheClosedLoops() async throws {
            let pair = try await InProcessPair()
            var open = RedisSpec(connections: 8, pipeline: 10)
            open.rate = 20_000
            let openOutcome = try await Self.stalled(pair, open, out: pair.scratch.path + "/open")
            let closedOutcome = try await Self.stalled(
                pair, RedisSpec(connections: 8, pipeline: 10), out: pair.scratch.path + "/closed")
            await pair.shutdown()

            let openP99 = try #require(openOutcome.value("latency_p99_us"))
            let closedP99 = try #require(closedOutcome.value("latency_p99_us"))
            let late = try #require(openOutcome.value("late_requests"))
            let achieved = try #require(openOutcome.value("ops_per_sec"))
            print("open loop at 20000/s: p99 \(openP99) us, \(late) late; closed loop: p99 \(closedP99) us")
            #expect(openP99 > 25_000, "open-loop p99 \(openP99) us with 50 ms stalls every second")
            #expect(closedP99 < openP99 / 2, "closed-loop p99 \(closedP99) us vs open-loop \(openP99) us")
            // Each stall held up about a thousand requests beyond the 80 the pipelines had room for.
            #expect(late > 1000, "late requests \(late)")
            #expect(abs(achieved - 20_000) < 1000, "achieved \(achieved)/s of 20000/s")
            #expect(openOutcome.value("offered_rate_per_sec") == 20_000)
            // Closed loop: no offered rate, no late requests.
            #expect(closedOutcome.value("late_requests") == nil && closedOutcome.value("offered_rate_per_sec") == nil)
        }

        /// One 4 s window of `spec` while redis-server, the test's child, stops for 50 ms every second.
        static func stalled(_ pair: InProcessPair, _ spec: RedisSpec, out: String) async throws -> StepOutcome {
            let stopper = Task.detached {
                var server: Int32?
                for _ in 0..<100 where server == nil {
                    server = children(of: getpid(), named: "redis-server").first
                    try? await Task.sleep(for: .milliseconds(100))
                }
                guard let server else { return 0 }
                try? await Task.sleep(for: .milliseconds(1500))
                var stops = 0
                for _ in 0..<4 {
                    kill(server, SIGSTOP)
                    try? await Task.sleep(for: .milliseconds(50))
                    kill(server, SIGCONT)
                    stops += 1
                    try? await Task.sleep(for: .milliseconds(950))
                }
                return stops
            }
            let outcome = try #require(
                try await pair.run([Workload(spec)], durationNs: 4_000_000_000, out: out).first)
            #expect(await stopper.value == 4, "redis-server was not stopped four times")
            return outcome
        }

        /// A rate sweep: the rates the SUT keeps up with are met (a few late requests at most), the
        /// first it cannot is reported short, and the rates above it are not run.
        @Test func aRateSweepMeetsItsRatesAndStopsAtSaturation() async throws {
            let pair = try await InProcessPair()
            let out = pair.scratch.path + "/sweep"
            let steps = [2_000.0, 1_000_000, 2_000_000].map { rate -> PlannedStep in
                var spec = RRSpec(proto: .tcp)
                spec.rate = rate
                return PlannedStep(
                    Workload(spec), timing: StepTiming(warmupNs: 300_000_000, durationNs: 1_000_000_000),
                    placement: Placement())
            }
            let lines = LockedValue<[String]>([])
            let plan = RunPlan(
                sut: pair.sut.endpoint, peer: pair.peer.endpoint, sutDataHost: "127.0.0.1", token: pair.token,
                steps: steps, outDirectory: out, command: "test")
            let outcomes = try await BenchmarkRun(plan: plan, progress: { line in lines.withLock { $0.append(line) } })
                .run()
            await pair.shutdown()

            #expect(outcomes.map(\.stepID) == ["rr-tcp-r2000-1", "rr-tcp-r1000000-2"], "\(outcomes.map(\.stepID))")
            let met = try #require(outcomes.first)
            let rate = try #require(met.value("transactions_per_sec"))
            #expect(abs(rate - 2000) < 40, "achieved \(rate)/s of 2000/s")
            #expect(try #require(met.value("late_requests")) < 100)
            // Timed from the intended times, a loop that cannot keep up builds a backlog: its latency
            // grows with the window, far beyond any round trip here.
            let short = outcomes[1]
            #expect(try #require(short.value("transactions_per_sec")) < 950_000)
            #expect(try #require(short.value("latency_p99_us")) > 100_000)
            #expect(try #require(short.value("late_requests")) > 500_000)
            #expect(
                lines.value.contains { line in
                    // One flow with one transaction in flight: the round trip limits it, and the line
                    // names which side (if any) was at its CPU limit instead of blaming the SUT.
                    line.contains("achieved") && line.contains("higher rates skipped: rr-tcp-r2000000-3")
                        && ["the SUT saturated", "the generator could not keep up", "neither the generator"].contains {
                            line.contains($0)
                        }
                }, "\(lines.value)")
            let log = try jsonLines(out + "/merged-log.jsonl")
            #expect(log.contains { $0["event"] as? String == "step.saturated" })
        }
    }
}
