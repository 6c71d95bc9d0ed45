import Foundation
import Shared
import TestSupport
import Testing

@testable import Agent
@testable import Coordinator

#if canImport(Glibc)
    import Glibc
#endif

extension Integration {
    /// The Redis sweep against a real redis-server the SUT agent starts, and its failure modes.
    @Suite struct RedisRunTests {
        static func point(_ connections: Int, keys: Int? = nil) -> RedisSpec {
            RedisSpec(connections: connections, pipeline: 10, keys: keys)
        }

        @Test func sweepMeasuresEveryPointAndTheDatabaseHoldsTheKeysTheGeneratorCreated() async throws {
            let lab = try await InProcessPair()
            let out = lab.scratch.path + "/run"
            let outcomes = try await lab.run([Self.point(1), Self.point(4)].map { Workload($0) }, out: out)
            await lab.shutdown()

            #expect(outcomes.map(\.stepID) == ["redis-c1-1", "redis-c4-2"])
            for outcome in outcomes {
                let r = try outcome.redis()
                let ops = try #require(outcome.value("ops_per_sec"))
                #expect(ops > 1000, "\(outcome.stepID): \(ops) ops/s")
                #expect(r.errors == 0)
                #expect(r.valueMismatches == 0)
                #expect(r.gets > 0 && r.sets > 0 && r.operations == r.gets + r.sets)
                #expect(r.hits + r.misses == r.gets)
                // Every SET made a new key, and the database holds exactly those (it was flushed first).
                #expect(r.keys > 0)
                #expect(try outcome.redisServer().keys == r.keys)
                #expect((try outcome.redisServer().usedMemoryBytes ?? 0) > 0)
                #expect(r.latency.histogram().totalCount == r.operations)
                #expect(outcome.value("client_cpu_seconds_per_mop") != nil)
                #expect(outcome.sut.result.cpu != nil)
            }
            // One server for the whole sweep (both points got the same endpoint), gone when the session ended.
            let log = try jsonLines(out + "/merged-log.jsonl")
            let endpoints = log.filter { $0["host"] as? String == "sut" && $0["event"] as? String == "step.ready" }
                .compactMap { ($0["fields"] as? [String: String])?["endpoint"] }
            #expect(endpoints.count == 2 && Set(endpoints).count == 1, "\(endpoints)")
            try expectEventually(seconds: 5, "redis-server outlived the session") {
                children(of: getpid(), named: "redis-server").isEmpty
            }
            let samples = try jsonLines(out + "/samples.jsonl")
            for metric in [
                "ops_per_sec", "get_ops_per_sec", "set_ops_per_sec", "latency_mean_us", "latency_p50_us",
                "latency_p99_us", "latency_p999_us", "errors", "hits", "misses", "keys", "redis_used_memory_bytes",
                "sut_cpu_util_pct", "client_cpu_seconds_per_mop",
            ] {
                #expect(summaryValue(samples, metric, step: "redis-c4-2") != nil, "missing \(metric)")
            }
            let labels = samples.first { $0["metric"] as? String == "ops_per_sec" }?["labels"] as? [String: String]
            #expect(labels?["connections"] == "1")
            #expect(FileManager.default.fileExists(atPath: out + "/histograms/redis-c1-1.hgrm"))
        }

        @Test func aKeyCapStopsTheDataSetGrowingAndGetsThenHit() async throws {
            let lab = try await InProcessPair()
            let outcomes = try await lab.run([Workload(Self.point(2, keys: 500))], out: lab.scratch.path + "/run")
            await lab.shutdown()
            let outcome = try #require(outcomes.first)
            #expect(try outcome.redis().keys == 500)
            #expect(try outcome.redisServer().keys == 500)
            #expect(try outcome.redis().misses == 0)
            #expect(try outcome.redis().valueMismatches == 0)
        }

        @Test func aMissingBinaryIsOneClearErrorAndNothingRuns() async throws {
            let lab = try await InProcessPair()
            var spec = Self.point(1)
            spec.server.binary = "/nonexistent/redis-server"
            let out = lab.scratch.path + "/run"
            await #expect {
                _ = try await lab.run([Workload(spec)], out: out)
            } throws: { error in
                let e = error as? WireError
                return e?.code == .serverFailed && e?.message.contains("/nonexistent/redis-server not found") == true
            }
            await lab.shutdown()
            let run = try String(contentsOfFile: out + "/run.json", encoding: .utf8)
            #expect(run.contains("\"failed\""))
        }

        @Test func aPortInUseNamesTheCause() async throws {
            let lab = try await InProcessPair()
            let taken = try Socket.bound(host: "127.0.0.1", port: 0, type: Int32(SOCK_STREAM.rawValue))
            defer { close(taken) }
            var spec = Self.point(1)
            spec.server.port = Socket.localPort(taken)
            await #expect {
                _ = try await lab.run([Workload(spec)], out: lab.scratch.path + "/run")
            } throws: { error in
                let message = (error as? WireError)?.message ?? ""
                return message.contains("redis-server") && message.contains("exited with status")
                    && message.contains("in use")
            }
            await lab.shutdown()
            #expect(children(of: getpid(), named: "redis-server").isEmpty)
        }

        @Test func aServerThatDiesMidRunEndsTheRunWithItsCause() async throws {
            let lab = try await InProcessPair()
            let out = lab.scratch.path + "/run"
            let killer = Task.detached {
                let deadline = Date().addingTimeInterval(10)
                while Date() < deadline {
                    if let pid = children(of: getpid(), named: "redis-server").first {
                        try await Task.sleep(for: .milliseconds(1200))
                        kill(pid, SIGKILL)
                        return Date()
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                return Date.distantFuture
            }
            await #expect {
                _ = try await lab.run([Workload(Self.point(4))], durationNs: 20_000_000_000, out: out)
            } throws: { error in
                // The cause as the SUT saw it, not only the peer's lost connections.
                let message = (error as? WireError)?.message ?? ""
                return message.contains("redis-server") && message.contains("killed by signal 9")
                    && message.contains("redis-c4-1")
            }
            let killedAt = try await killer.value
            #expect(Date().timeIntervalSince(killedAt) < 6)
            await lab.shutdown()
            let run = try String(contentsOfFile: out + "/run.json", encoding: .utf8)
            #expect(run.contains("\"failed\""))
        }

        @Test func anExternalServerIsUsedAndLeftRunning() async throws {
            let lab = try await InProcessPair()
            let port = try freePort()
            let server = try ChildProcess(
                "/usr/bin/env", ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", ""],
                scratch: lab.scratch, label: "external-redis")
            try waitUntilListening(Endpoint(host: "127.0.0.1", port: port))
            var spec = Self.point(2, keys: 100)
            spec.server = RedisServerSpec(external: Endpoint(host: "127.0.0.1", port: port))
            let outcomes = try await lab.run([Workload(spec)], out: lab.scratch.path + "/run")
            await lab.shutdown()
            #expect(try #require(outcomes.first).redisServer().keys == 100)
            #expect(isListening(Endpoint(host: "127.0.0.1", port: port)), "an external server must be left alone")
            #expect(children(of: getpid(), named: "redis-server") == [server.pid], "the agent must start none")
            server.terminate()
        }

        /// Starts a 20 s sweep point with the real CLI; returns it and the SUT agent's redis-server.
        func startLongRun(_ lab: Lab) throws -> (coordinator: ChildProcess, server: Int32) {
            let coordinator = try lab.command(
                "redis", ["--connections", "2", "--duration", "20s", "--warmup", "0"], out: lab.scratch.path + "/run")
            var server: Int32?
            try expectEventually(seconds: 10, "the SUT agent never started redis-server") {
                server = children(of: lab.sut.child.pid, named: "redis-server").first
                return server != nil
            }
            return (coordinator, server!)
        }

        @Test func killingTheSUTAgentTakesItsRedisServerWithIt() throws {
            let lab = try Lab()
            let (coordinator, server) = try startLongRun(lab)
            Thread.sleep(forTimeInterval: 0.5)
            kill(lab.sut.child.pid, SIGKILL)
            try expectEventually(seconds: 2, "redis-server outlived its agent") {
                !processes(mentioning: "redis-server").contains(server)
            }
            #expect(coordinator.wait(seconds: 10) == 1, "stderr: \(coordinator.stderr)")
        }

        @Test func killingTheCoordinatorStopsTheLoadAndTheServerWithinTheLease() throws {
            let lab = try Lab()
            let (coordinator, _) = try startLongRun(lab)
            Thread.sleep(forTimeInterval: 1)
            kill(coordinator.pid, SIGKILL)
            let killed = Date()
            try expectEventually(seconds: 6, "redis-server still runs 6 s after the coordinator died") {
                children(of: lab.sut.child.pid, named: "redis-server").isEmpty
            }
            #expect(Date().timeIntervalSince(killed) < 5, "the lease is 3 s")
            // The peer stopped generating load: it uses next to no CPU over the next second.
            Thread.sleep(forTimeInterval: 0.5)
            let settled = try cpuTicks(lab.peer.child.pid)
            Thread.sleep(forTimeInterval: 1)
            #expect(try cpuTicks(lab.peer.child.pid) - settled < 10, "the peer still burns CPU")
            #expect(lab.sut.child.process.isRunning && lab.peer.child.process.isRunning)
        }
    }
}
