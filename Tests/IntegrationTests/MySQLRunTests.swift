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
    /// The MySQL sweep against a real MariaDB the SUT agent initializes and starts, and its failure modes.
    @Suite struct MySQLRunTests {
        static func point(_ threads: Int, mode: MySQLMode = .readWrite) -> MySQLSpec {
            MySQLSpec(
                threads: threads, mode: mode, tableSize: 2000, password: "test-secret",
                server: MySQLServerSpec(bufferPoolMiB: 64))
        }

        @Test func sweepLoadsTheTableOnceRunsEveryPointAndStopsTheServer() async throws {
            let lab = try await InProcessPair()
            let out = lab.scratch.path + "/run"
            var textPoint = Self.point(2, mode: .readOnly)
            textPoint.preparedStatements = false
            let outcomes = try await lab.run([Self.point(1), Self.point(4), textPoint].map { Workload($0) }, out: out)
            await lab.shutdown()

            #expect(outcomes.map(\.stepID) == ["mysql-t1-1", "mysql-t4-2", "mysql-t2-3"])
            for (i, outcome) in outcomes.enumerated() {
                let m = try outcome.mysql()
                let tx = Double(m.transactions)
                #expect(tx > 10, "\(outcome.stepID): \(tx) transactions")
                // Every transaction of the window ran its whole script: 20 statements read-write, 16 read-only
                // (more only when a deadlock made one run again).
                let perTx = i == 2 ? 16.0 : 20.0
                let retried = Double(m.deadlocks)
                #expect(Double(m.queries) >= perTx * tx)
                #expect(Double(m.queries) <= perTx * (tx + 2 * retried))
                // 10 point selects find their row, the sum range one; three ranges read up to 100 rows
                // each (fewer when they start within 100 ids of the table's end).
                #expect(Double(m.rowsRead) >= (11 + 300 * 0.9) * tx)
                #expect(Double(m.rowsRead) <= (11 + 300) * (tx + 2 * retried))
                #expect(m.errors == m.deadlocks)
                #expect(m.reconnects == 0)
                #expect(m.latency.histogram().totalCount == m.transactions)
                #expect(m.load.threads == [1, 4, 2][i])
                // Deletes re-insert the same id: the table still holds every row.
                #expect(try outcome.mysqlServer().rowsAfter == 2000)
                #expect(outcome.sut.result.cpu != nil)
            }
            // The first point loaded the table, the others found it complete.
            #expect(try outcomes[0].mysqlServer().loadSeconds > 0)
            #expect(try outcomes[1].mysqlServer().loadSeconds == 0)
            #expect(try outcomes[2].mysqlServer().loadSeconds == 0)
            try expectEventually(seconds: 25, "mariadbd outlived the session") {
                children(of: getpid(), named: "mariadbd").isEmpty
            }
            let samples = try jsonLines(out + "/samples.jsonl")
            for metric in [
                "transactions_per_sec", "queries_per_sec", "latency_mean_ms", "latency_p95_ms", "latency_p99_ms",
                "errors", "deadlocks", "reconnects", "sut_cpu_util_pct", "client_cpu_seconds_per_ktx",
            ] {
                #expect(summaryValue(samples, metric, step: "mysql-t4-2") != nil, "missing \(metric)")
            }
            let labels =
                samples.first { $0["metric"] as? String == "transactions_per_sec" }?["labels"] as? [String: String]
            #expect(labels?["threads"] == "1")
            let files = try FileManager.default.subpathsOfDirectory(atPath: out)
            for file in files {
                guard let data = FileManager.default.contents(atPath: out + "/" + file) else { continue }
                #expect(
                    !String(decoding: data, as: UTF8.self).contains("test-secret"),
                    "the password must not reach the results: \(file)")
            }
            #expect(files.contains("merged-log.jsonl") && files.contains("run.json"))
        }

        @Test func contentionOnASmallTableRetriesDeadlocksAndKeepsEveryRow() async throws {
            let lab = try await InProcessPair()
            var spec = Self.point(8)
            spec.tableSize = MySQLSpec.rangeSize
            let outcome = try #require(
                try await lab.run([Workload(spec)], durationNs: 2_000_000_000, out: lab.scratch.path + "/run").first)
            await lab.shutdown()
            // Eight threads updating, deleting and re-inserting among 100 rows collide; InnoDB breaks
            // the deadlocks, the transactions run again, and nothing is lost or counted twice.
            let m = try outcome.mysql()
            let tx = Double(m.transactions)
            let deadlocks = Double(m.deadlocks)
            #expect(tx > 10)
            #expect(m.errors == m.deadlocks)
            #expect(Double(m.queries) >= 20 * tx)
            #expect(Double(m.queries) <= 20 * (tx + 2 * deadlocks))
            #expect(try outcome.mysqlServer().rowsAfter == UInt64(MySQLSpec.rangeSize))
            #expect(m.latency.histogram().totalCount == m.transactions)
        }

        @Test func aMissingServerBinaryIsOneClearErrorAndNothingRuns() async throws {
            let lab = try await InProcessPair()
            var spec = Self.point(1)
            spec.server.binary = "/nonexistent/mariadbd"
            let out = lab.scratch.path + "/run"
            await #expect {
                _ = try await lab.run([Workload(spec)], out: out)
            } throws: { error in
                let e = error as? WireError
                return e?.code == .serverFailed && e?.message.contains("/nonexistent/mariadbd not found") == true
            }
            await lab.shutdown()
            let run = try String(contentsOfFile: out + "/run.json", encoding: .utf8)
            #expect(run.contains("\"failed\""))
        }

        @Test func anExternalServerIsUsedWithItsPasswordAndLeftRunning() async throws {
            let server = try ManagedMySQL(
                ManagedMySQL.Key(
                    binary: nil, volume: nil, bindHost: "127.0.0.1", port: nil, cpus: nil, bufferPoolMiB: 64,
                    flushLogAtTrxCommit: 2, flushMethod: "fsync", database: "bench", user: "bench",
                    password: "external-pw"))
            defer { server.stop() }
            let lab = try await InProcessPair()
            var spec = Self.point(2)
            spec.server = MySQLServerSpec(external: server.endpoint)
            spec.database = "bench"
            spec.user = "bench"
            spec.password = "wrong"
            await #expect {
                _ = try await lab.run([Workload(spec)], out: lab.scratch.path + "/refused")
            } throws: { error in
                let e = error as? WireError
                return e?.code == .serverProtocol && e?.message.contains("refused user bench") == true
                    && e?.message.contains("1045") == true
            }
            spec.password = "external-pw"
            let outcomes = try await lab.run([Workload(spec)], out: lab.scratch.path + "/run")
            await lab.shutdown()
            #expect(try #require(outcomes.first).mysql().transactions > 10)
            #expect(server.failure() == nil, "an external server must be left alone")
            #expect(children(of: getpid(), named: "mariadbd") == [server.process.pid], "the agent must start none")
        }

        @Test func aServerThatDiesMidRunEndsTheRunWithItsCause() async throws {
            let lab = try await InProcessPair()
            let out = lab.scratch.path + "/run"
            let killer = Task.detached {
                let deadline = Date().addingTimeInterval(30)
                while Date() < deadline {
                    if let pid = children(of: getpid(), named: "mariadbd").first {
                        // Ready within about a second, the table loaded, the step started: well into its 30 s.
                        try await Task.sleep(for: .milliseconds(4000))
                        kill(pid, SIGKILL)
                        return Date()
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                return Date.distantFuture
            }
            await #expect {
                _ = try await lab.run([Workload(Self.point(4))], durationNs: 30_000_000_000, out: out)
            } throws: { error in
                let message = (error as? WireError)?.message ?? ""
                return message.contains("mariadbd") && message.contains("killed by signal 9")
                    && message.contains("mysql-t4-1")
            }
            let killedAt = try await killer.value
            #expect(Date().timeIntervalSince(killedAt) < 8)
            await lab.shutdown()
            let run = try String(contentsOfFile: out + "/run.json", encoding: .utf8)
            #expect(run.contains("\"failed\""))
        }

        /// Starts a 30 s sweep point with the real CLI; returns it once the peer is loading the SUT
        /// agent's mariadbd, and that server's pid.
        func startLongRun(_ lab: Lab) throws -> (coordinator: ChildProcess, server: Int32) {
            let coordinator = try lab.command(
                "mysql",
                [
                    "--threads", "2", "--table-size", "2000", "--buffer-pool", "64", "--duration", "30s", "--warmup",
                    "0",
                ],
                out: lab.scratch.path + "/run")
            var server: Int32?
            try expectEventually(seconds: 20, "the SUT agent never started mariadbd") {
                server = children(of: lab.sut.child.pid, named: "mariadbd").first
                return server != nil
            }
            // Ready, tables loaded, load running: the peer burns CPU.
            try expectEventually(seconds: 20, "the peer never started its transactions") {
                guard let before = try? cpuTicks(lab.peer.child.pid) else { return false }
                Thread.sleep(forTimeInterval: 0.5)
                return ((try? cpuTicks(lab.peer.child.pid)) ?? before) - before > 5
            }
            return (coordinator, server!)
        }

        @Test func killingTheSUTAgentTakesItsServerWithIt() throws {
            let lab = try Lab()
            let (coordinator, server) = try startLongRun(lab)
            kill(lab.sut.child.pid, SIGKILL)
            try expectEventually(seconds: 2, "mariadbd outlived its agent") {
                !processes(mentioning: "mariadbd").contains(server)
            }
            #expect(coordinator.wait(seconds: 15) == 1, "stderr: \(coordinator.stderr)")
        }

        @Test func killingTheCoordinatorStopsTheLoadAndTheServer() throws {
            let lab = try Lab()
            let (coordinator, _) = try startLongRun(lab)
            kill(coordinator.pid, SIGKILL)
            let killed = Date()
            // The lease (3 s), then a clean InnoDB shutdown.
            try expectEventually(seconds: 25, "mariadbd still runs 25 s after the coordinator died") {
                children(of: lab.sut.child.pid, named: "mariadbd").isEmpty
            }
            #expect(Date().timeIntervalSince(killed) < 15)
            Thread.sleep(forTimeInterval: 0.5)
            let settled = try cpuTicks(lab.peer.child.pid)
            Thread.sleep(forTimeInterval: 1)
            #expect(try cpuTicks(lab.peer.child.pid) - settled < 10, "the peer still burns CPU")
            #expect(lab.sut.child.process.isRunning && lab.peer.child.process.isRunning)
        }

        /// Recorded: MariaDB 10.11's greeting (as in SharedTests' MySQLProtocolTests).
        static let greeting: [UInt8] = {
            let hex =
                "640000000a352e352e352d31302e31312e31392d4d6172696144422d302b646562313275310004000000535f655f2b565275"
                + "00fef7080200ff81150000000000001d000000797e31726c48613069414826006d7973716c5f6e61746976655f7061737377"
                + "6f726400"
            return stride(from: 0, to: hex.count, by: 2).map {
                let i = hex.index(hex.startIndex, offsetBy: $0)
                return UInt8(hex[i..<hex.index(i, offsetBy: 2)], radix: 16)!
            }
        }()

        /// A server that sends `first`; if `second` is given, reads once and sends it; then closes.
        static func closingServer(_ first: [UInt8], then second: [UInt8]? = nil) throws -> Endpoint {
            let listener = try Socket.bound(host: "127.0.0.1", port: 0, type: Int32(SOCK_STREAM.rawValue))
            let endpoint = Endpoint(host: "127.0.0.1", port: Socket.localPort(listener))
            Thread {
                let fd = accept(listener, nil, nil)
                close(listener)
                guard fd >= 0 else { return }
                _ = first.withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
                if let second {
                    var scratch = [UInt8](repeating: 0, count: 4096)
                    _ = recv(fd, &scratch, scratch.count, 0)
                    _ = second.withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
                }
                close(fd)
            }.start()
            return endpoint
        }

        @Test func aServerThatClosesMidPacketIsOneClearError() throws {
            let credentials = MySQLCredentials(user: "u", password: "p", database: "")
            func expectClosed(_ endpoint: Endpoint, _ fragment: String) {
                #expect {
                    _ = try MySQLConnection(endpoint, credentials, timeoutMs: 2000)
                } throws: { error in
                    let e = error as? WireError
                    return e?.code == .serverFailed && e?.message.contains("closed the connection") == true
                        && e?.message.contains(fragment) == true
                }
            }
            // Half of the greeting, then the connection closes.
            expectClosed(try Self.closingServer(Array(Self.greeting.prefix(Self.greeting.count / 2))), "mid-packet")
            // The whole greeting, then nothing after the login response.
            expectClosed(try Self.closingServer(Self.greeting, then: []), "the login answer")
            // The whole greeting; after the login response, 5 bytes of an 11-byte OK packet.
            expectClosed(try Self.closingServer(Self.greeting, then: [7, 0, 0, 2, 0]), "mid-packet")
        }

        @Test func badCommandLinesAreOneClearLineAndExitNonZero() throws {
            let scratch = Scratch()
            for (arguments, expected) in [
                // The rest of the refused command lines are checked in process (CommandParseTests).
                (["--threads", "0"], "threads must be 1...4096"),
                (
                    ["--mysql", "127.0.0.1:3306", "--password-file", "/nonexistent"],
                    "lockstep: error: bad-step: --password-file: cannot read /nonexistent: No such file or directory"
                ),
            ] {
                let child = try ChildProcess(
                    Binaries.coordinator,
                    [
                        "mysql", "--sut", "127.0.0.1:1", "--peer", "127.0.0.1:2", "--token-file", "/nonexistent",
                        "--out", scratch.path + "/never",
                    ]
                        + arguments, scratch: scratch, label: "cli")
                #expect(child.wait(seconds: 10) != 0, "\(arguments)")
                #expect(child.stderr.contains(expected), "\(arguments): \(child.stderr)")
            }
        }
    }
}
