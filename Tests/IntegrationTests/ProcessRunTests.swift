import Foundation
import Shared
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Real `lockstep-agent` processes and the `lockstep` CLI, as a user runs them.
extension Integration {
    @Suite struct ProcessRunTests {
        @Test func cliRunsTcpAndUdpAndPrintsTheSummary() throws {
            let lab = try Lab()
            let out = lab.scratch.path + "/run"
            let coordinator = try lab.rr(["--protocol", "tcp,udp", "--duration", "1s", "--warmup", "200ms"], out: out)
            #expect(coordinator.wait(seconds: 60) == 0, "stderr: \(coordinator.stderr)")
            #expect(coordinator.stdout.contains("TCP_RR"))
            #expect(coordinator.stdout.contains("UDP_RR"))
            let samples = try jsonLines(out + "/samples.jsonl")
            #expect((summaryValue(samples, "transactions_per_sec", step: "rr-tcp-1") ?? 0) > 1000)
            #expect((summaryValue(samples, "transactions_per_sec", step: "rr-udp-2") ?? 0) > 1000)
            let log = try jsonLines(out + "/merged-log.jsonl")
            #expect(Set(log.compactMap { $0["host"] as? String }) == ["coordinator", "sut", "peer"])
            try expectCausalOrder(log, step: "rr-udp-2", runDirectory: out)
            // Both agents are free for the next run.
            let again = try lab.rr(["--duration", "0.3s", "--warmup", "0"], out: out + "2", label: "again")
            #expect(again.wait(seconds: 30) == 0, "stderr: \(again.stderr)")
        }

        @Test func quickstartRunsTheWholeSuiteOnTwoLocalAgents() throws {
            let scratch = Scratch()
            let out = scratch.path + "/quickstart"
            let agentsBefore = Set(processes(mentioning: "lockstep-agent"))
            let quickstart = try ChildProcess(
                Binaries.coordinator, ["quickstart", "--duration", "1s", "--out", out], scratch: scratch,
                label: "quickstart")
            #expect(quickstart.wait(seconds: 120) == 0, "stderr: \(quickstart.stderr)")
            // The test machine has redis-server, MariaDB and fio (scripts/install-deps.sh) and runs as root:
            // every workload runs, natively and behind netns-nat, and the ratio table ends the output.
            let samples = try jsonLines(out + "/samples.jsonl")
            for (k, (name, metric)) in [
                ("rr-tcp", "transactions_per_sec"), ("rr-udp", "transactions_per_sec"),
                ("stream-sut-tx", "goodput_gbps"), ("stream-sut-rx", "goodput_gbps"),
                ("redis-c8", "ops_per_sec"), ("mysql-t4", "transactions_per_sec"), ("fio-randread-4k-qd16", "iops"),
            ].enumerated() {
                for (m, mode) in ["native", "netns-nat"].enumerated() {
                    let step = "\(name)-\(mode)-\(2 * k + m + 1)"
                    #expect((summaryValue(samples, metric, step: step) ?? 0) > 0, "\(step) \(metric)")
                    #expect(quickstart.stdout.contains(step))
                }
            }
            #expect(quickstart.stdout.contains("mode comparison"))
            #expect(quickstart.stdout.contains("netns-nat/native"))
            #expect(!quickstart.stdout.contains("skipped"))
            try expectEventually(seconds: 5, "quickstart left its agents running") {
                Set(processes(mentioning: "lockstep-agent")).subtracting(agentsBefore).isEmpty
            }
        }

        @Test func peerKilledMidRunAbortsCleanlyAndTheSutStopsItsResponder() throws {
            let lab = try Lab()
            let out = lab.scratch.path + "/run"
            let coordinator = try lab.rr(["--duration", "20s"], out: out)
            try waitForEvent(out: out, lab: lab, seconds: 10)
            kill(lab.peer.child.pid, SIGKILL)
            let killed = Date()
            let status = try #require(
                coordinator.wait(seconds: 10), "coordinator still running 10 s after the peer died")
            #expect(Date().timeIntervalSince(killed) < 5)
            #expect(status != 0)
            let lines = coordinator.stderr.split(separator: "\n").filter { $0.hasPrefix("lockstep: error:") }
            #expect(lines.count == 1)
            #expect(lines.first?.contains("peer") == true)
            #expect(lines.first?.contains("rr-tcp-1") == true)
            // What it had is on disk, marked failed, and the SUT's responder is gone.
            let run =
                try jsonObject(out + "/run.json")
            #expect(run["status"] as? String == "failed")
            let log = try jsonLines(out + "/merged-log.jsonl")
            let ready = log.first { $0["host"] as? String == "sut" && $0["event"] as? String == "step.ready" }
            let responder = try #require(
                (ready?["fields"] as? [String: String])?["endpoint"].flatMap(Endpoint.init(parsing:)))
            try expectEventually(seconds: 3, "the SUT's responder still listens") { !isListening(responder) }
            #expect(
                log.contains {
                    $0["host"] as? String == "sut" && $0["event"] as? String == "step.abandoned"
                        || $0["event"] as? String == "step.abort"
                })
            #expect(lab.sut.child.process.isRunning)
        }

        @Test func sutKilledMidRunAbortsCleanlyAndThePeerStopsItsLoad() throws {
            let lab = try Lab()
            let out = lab.scratch.path + "/run"
            let coordinator = try lab.rr(["--duration", "20s"], out: out)
            try waitForEvent(out: out, lab: lab, seconds: 10)
            kill(lab.sut.child.pid, SIGKILL)
            let killed = Date()
            let status = try #require(
                coordinator.wait(seconds: 10), "coordinator still running 10 s after the SUT died")
            #expect(Date().timeIntervalSince(killed) < 5)
            #expect(status != 0)
            #expect(coordinator.stderr.contains("sut"))
            // The peer is idle again: it takes a new session at once and burns no CPU.
            let before = try cpuTicks(lab.peer.child.pid)
            Thread.sleep(forTimeInterval: 1)
            let busy = try cpuTicks(lab.peer.child.pid) - before
            #expect(busy < 20, "peer agent used \(busy) ticks in 1 s after the run ended")
            #expect(lab.peer.child.process.isRunning)
        }

        @Test func hungSutIsNoticedByHeartbeat() throws {
            let lab = try Lab()
            let out = lab.scratch.path + "/run"
            let coordinator = try lab.rr(["--duration", "20s"], out: out)
            try waitForEvent(out: out, lab: lab, seconds: 10)
            kill(lab.sut.child.pid, SIGSTOP)
            defer { kill(lab.sut.child.pid, SIGCONT) }
            let stopped = Date()
            let status = try #require(
                coordinator.wait(seconds: 15), "coordinator still running 15 s after the SUT hung")
            #expect(Date().timeIntervalSince(stopped) < 6)
            #expect(status != 0)
            #expect(coordinator.stderr.contains("sut"))
        }

        @Test func coordinatorKilledMidRunLeavesNoLoadAndNoServer() throws {
            let lab = try Lab()
            let out = lab.scratch.path + "/run"
            let coordinator = try lab.rr(["--duration", "30s"], out: out)
            try waitForEvent(out: out, lab: lab, seconds: 10)
            let responder = try responderEndpoint(lab: lab)
            #expect(isListening(responder))
            kill(coordinator.pid, SIGKILL)
            // The kernel closes the dead coordinator's connections, so the agents see it at once; a
            // coordinator that goes silent with its connection open is the lease's job (LeaseTests).
            try expectEventually(seconds: 3, "the SUT's responder outlived its coordinator by the lease") {
                !isListening(responder)
            }
            Thread.sleep(forTimeInterval: 0.5)
            for agent in [lab.sut, lab.peer] {
                let before = try cpuTicks(agent.child.pid)
                Thread.sleep(forTimeInterval: 1)
                let busy = try cpuTicks(agent.child.pid) - before
                #expect(busy < 20, "agent still busy (\(busy) ticks in 1 s) after its coordinator died")
                #expect(agent.child.process.isRunning)
            }
            // Both take the next coordinator at once.
            let again = try lab.rr(["--duration", "0.3s", "--warmup", "0"], out: out + "2", label: "again")
            #expect(again.wait(seconds: 30) == 0, "stderr: \(again.stderr)")
        }

        @Test func cliStreamsBothDirections() throws {
            let lab = try Lab()
            let out = lab.scratch.path + "/stream"
            let coordinator = try ChildProcess(
                Binaries.coordinator,
                [
                    "stream", "--sut", lab.sut.endpoint.description, "--peer", lab.peer.endpoint.description,
                    "--token-file",
                    lab.tokenPath, "--direction", "both", "--duration", "1s", "--warmup", "200ms", "--out", out,
                ],
                scratch: lab.scratch, label: "stream")
            #expect(coordinator.wait(seconds: 60) == 0, "stderr: \(coordinator.stderr)")
            #expect(coordinator.stdout.contains("sut-tx") && coordinator.stdout.contains("sut-rx"))
            #expect(coordinator.stdout.contains("cycles/B"))
            let samples = try jsonLines(out + "/samples.jsonl")
            for step in ["stream-sut-tx-1", "stream-sut-rx-2"] {
                #expect((summaryValue(samples, "goodput_gbps", step: step) ?? 0) > 0.5)
                #expect(summaryValue(samples, "sut_cycles_per_byte", step: step) != nil)
            }
        }

        /// The SUT responder's endpoint, from the SUT agent's own log file.
        func responderEndpoint(lab: Lab) throws -> Endpoint {
            var found: Endpoint?
            try expectEventually(seconds: 5, "the SUT never logged its responder") {
                let log = (try? String(contentsOfFile: lab.scratch.path + "/logs/sut.jsonl", encoding: .utf8)) ?? ""
                found =
                    log.split(separator: "\n").compactMap { line -> Endpoint? in
                        guard line.contains("step.ready"), let data = line.data(using: .utf8),
                            let row = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                            let endpoint = (row["fields"] as? [String: String])?["endpoint"]
                        else { return nil }
                        return Endpoint(parsing: endpoint)
                    }.last
                return found != nil
            }
            return found!
        }

        @Test func wrongTokenIsOneLineAndExitOne() throws {
            let lab = try Lab()
            let other = lab.scratch.path + "/other-token"
            try Token.generate(at: other)
            let coordinator = try ChildProcess(
                Binaries.coordinator,
                [
                    "rr", "--sut", lab.sut.endpoint.description, "--peer", lab.peer.endpoint.description,
                    "--token-file", other, "--duration", "1s", "--out", lab.scratch.path + "/run",
                ],
                scratch: lab.scratch, label: "wrong")
            #expect(coordinator.wait(seconds: 15) == 1)
            #expect(coordinator.stderr.contains("authentication-failed"))
            #expect(coordinator.stderr.split(separator: "\n").filter { $0.hasPrefix("lockstep: error:") }.count == 1)
        }

        // Every refused command line is checked in process (CommandParseTests); these few check the
        // exit status, the one line on stderr and that nothing was created, as a user sees them.
        @Test(arguments: [
            ("rr", ["--response", "0"], "response size"),
            ("rr", ["--resume", "/tmp/elsewhere"], "exclude each other"),
            ("stream", ["--streams", "0"], "streams"),
            ("redis", ["--connections", "1,x"], "is invalid for '--connections"),
        ])
        func badParametersStartNothing(_ workload: String, _ extra: [String], _ says: String) throws {
            let scratch = Scratch()
            let token = try scratch.token().path
            let out = scratch.path + "/run"
            let coordinator = try ChildProcess(
                Binaries.coordinator,
                [workload, "--sut", "127.0.0.1:1", "--peer", "127.0.0.1:2", "--token-file", token, "--out", out]
                    + extra,
                scratch: scratch, label: "bad")
            let status = try #require(coordinator.wait(seconds: 10))
            #expect(status != 0)
            #expect(coordinator.stderr.lowercased().contains(says), "stderr: \(coordinator.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
        }

        @Test func agentRefusesATokenFileOthersCanRead() throws {
            let scratch = Scratch()
            let token = try scratch.token().path
            chmod(token, 0o644)
            let agent = try ChildProcess(
                Binaries.agent, ["serve", "--listen", "127.0.0.1:\(try freePort())", "--token-file", token],
                scratch: scratch, label: "agent")
            let status = try #require(agent.wait(seconds: 10))
            #expect(status != 0)
            #expect(agent.stderr.contains("chmod 600"))
        }

        @Test func agentStopsGracefullyOnSigterm() throws {
            let lab = try Lab()
            lab.sut.child.terminate(signal: SIGTERM)
            #expect(lab.sut.child.wait(seconds: 5) == 0)
            #expect(!isListening(lab.sut.endpoint))
        }

        /// Waits until the run's step is under way (the SUT agent reports its start).
        func waitForEvent(out: String, lab: Lab, seconds: Double) throws {
            try expectEventually(seconds: seconds, "the run never started") {
                guard let run = try? String(contentsOfFile: out + "/run.json", encoding: .utf8) else { return false }
                return run.contains("\"running\"") && run.contains("rr-tcp-1")
            }
            Thread.sleep(forTimeInterval: 1.5)  // into the measurement
        }
    }
}

/// Polls `condition` until it holds or `seconds` pass; throws with `what` otherwise.
func expectEventually(seconds: Double, _ what: String, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return }
        usleep(50_000)
    }
    struct Timeout: Error, CustomStringConvertible { let description: String }
    throw Timeout(description: what)
}

/// User plus system CPU ticks a process used so far.
func cpuTicks(_ pid: Int32) throws -> Int {
    let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
    let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
    return Int(fields[11])! + Int(fields[12])!
}
