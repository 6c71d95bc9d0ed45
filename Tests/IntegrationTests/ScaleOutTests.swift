import Foundation
import Shared
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension Integration {
    /// Several peers against one SUT: the load split, one start instant, totals and per-peer rows,
    /// a dying peer named. Needs root for the namespace lab.
    @Suite struct ScaleOutTests {
        static func rows(_ dir: String) throws -> [[String: Any]] {
            try jsonLines(dir + "/samples.jsonl").filter { ($0["labels"] as? [String: String])?["kind"] != "interval" }
        }

        static func values(_ rows: [[String: Any]], _ metric: String) -> (total: Double?, perPeer: [String: Double]) {
            var total: Double?
            var perPeer: [String: Double] = [:]
            for row in rows where row["metric"] as? String == metric {
                let labels = row["labels"] as? [String: String] ?? [:]
                guard let value = row["value"] as? Double else { continue }
                if let peer = labels["peer"] {
                    perPeer[peer] = perPeer[peer] ?? value
                } else if total == nil {
                    total = value
                }
            }
            return (total, perPeer)
        }

        @Test func threePeersOnTheNamespaceLabSplitEveryWorkloadAndAddUp() throws {
            let lab = try NamespaceLab(prefix: "p", startAgents: false, peers: 3)
            let deploy = try lab.inControl(
                ["agents", "deploy", "--lab", lab.labFile, "--agent-binary", Binaries.agent], label: "deploy")
            #expect(deploy.wait(seconds: 90) == 0, "\(deploy.stderr)")
            defer {
                let stop = try? lab.inControl(["agents", "stop", "--lab", lab.labFile], label: "stop")
                _ = stop?.wait(seconds: 30)
            }
            for (workload, extra, count) in [
                ("rr", ["--protocol", "tcp,udp", "--flows", "3"], "transactions"),
                ("stream", ["--direction", "sut-tx", "--streams", "3"], "bytes"),
                ("redis", ["--connections", "7"], "keys"),
                ("mysql", ["--threads", "3", "--table-size", "1000"], "transactions_per_sec"),
            ] {
                let out = lab.scratch.path + "/\(workload)"
                let run = try lab.inControl(
                    [workload, "--lab", lab.labFile, "--duration", "1s", "--warmup", "0.3s", "--out", out] + extra,
                    label: workload)
                #expect(run.wait(seconds: 120) == 0, "\(workload): \(run.stderr)")
                let rows = try Self.rows(out)
                let counted = Self.values(rows, count)
                #expect(Set(counted.perPeer.keys) == ["peer1", "peer2", "peer3"], "\(workload): \(counted.perPeer)")
                // The total is the sum of the peers' own counts (rates over equal windows add too).
                let sum = counted.perPeer.values.reduce(0, +)
                #expect(abs((counted.total ?? 0) - sum) <= 1e-6 * sum, "\(workload) \(count)")
                #expect((counted.total ?? 0) > 0, "\(workload)")
                // Each peer's machine reports its own CPU.
                #expect(Set(Self.values(rows, "peer_cpu_seconds").perPeer.keys) == ["peer1", "peer2", "peer3"])
                // Every agent started at one instant: skew is across all four.
                #expect(Self.values(rows, "start_skew_us").total != nil)
                #expect(run.stdout.contains("per peer"), "\(run.stdout)")
                let info =
                    try jsonObject(out + "/run.json")
                #expect((info["agents"] as? [[String: Any]])?.count == 4)
                #expect(
                    (info["parameters"] as? [String: String])?["peer"]
                        == "198.18.0.3:7470,198.18.0.4:7470,198.18.0.5:7470")
            }
            // Three peers sending to one SUT: it counts the total it received; each peer's row is what
            // its sockets took inside its window, which adds up to about the same.
            let inbound = lab.scratch.path + "/stream-rx"
            let rx = try lab.inControl(
                [
                    "stream", "--lab", lab.labFile, "--direction", "sut-rx", "--streams", "3", "--duration", "1s",
                    "--warmup", "0.3s", "--out", inbound,
                ], label: "stream-rx")
            #expect(rx.wait(seconds: 120) == 0, "\(rx.stderr)")
            let received = Self.values(try Self.rows(inbound), "bytes")
            let offered = received.perPeer.values.reduce(0, +)
            #expect(received.perPeer.count == 3 && (received.total ?? 0) > 0)
            #expect(abs((received.total ?? 0) - offered) < 0.1 * offered, "received \(received), offered \(offered)")
            // Redis: the peers created distinct keys (their own slices), so the server holds their sum.
            let redis = try Self.rows(lab.scratch.path + "/redis")
            #expect(Self.values(redis, "redis_keys").total == Self.values(redis, "keys").total)
            // RR: the merged histogram holds every peer's transactions.
            let hgrm = try String(contentsOfFile: lab.scratch.path + "/rr/histograms/rr-tcp-1.hgrm", encoding: .utf8)
            let rr = Self.values(try Self.rows(lab.scratch.path + "/rr"), "transactions")
            let total = hgrm.split(separator: "\n").first { $0.contains("Total count") }?
                .split(separator: "=").last?.trimmingCharacters(in: CharacterSet(charactersIn: " ]"))
            #expect(total == String(Int(rr.total ?? 0)), "\(hgrm.suffix(200))")
        }

        @Test func onePeerDyingAbortsTheStepOnEveryAgentNamingIt() throws {
            let scratch = Scratch()
            let token = try scratch.token().path
            let sut = try AgentProcess(name: "sut", tokenPath: token, scratch: scratch)
            let peers = try (1...3).map { try AgentProcess(name: "peer\($0)", tokenPath: token, scratch: scratch) }
            /// Load threads of an agent process (named by PR_SET_NAME).
            func workers(_ pid: Int32) -> Int {
                let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
                return tasks.filter {
                    ((try? String(contentsOfFile: "/proc/\(pid)/task/\($0)/comm", encoding: .utf8)) ?? "")
                        .hasPrefix("rr-worker")
                }.count
            }
            let out = scratch.path + "/run"
            let run = try ChildProcess(
                Binaries.coordinator,
                [
                    "rr", "--sut", sut.endpoint.description, "--peer",
                    peers.map(\.endpoint.description).joined(separator: ","), "--token-file", token, "--flows", "3",
                    "--duration", "20s", "--warmup", "0", "--out", out,
                ], scratch: scratch, label: "rr")
            try expectEventually(seconds: 30, "the step never started") {
                (try? String(contentsOfFile: out + "/run.json", encoding: .utf8))?.contains("\"running\"") == true
                    && run.stderr.contains("step rr-tcp-1")
            }
            Thread.sleep(forTimeInterval: 1.5)
            // Every peer runs its one flow's worker thread now.
            #expect(peers.allSatisfy { workers($0.child.pid) == 1 }, "\(peers.map { workers($0.child.pid) })")
            kill(peers[1].child.pid, SIGKILL)
            #expect(run.wait(seconds: 20) == 1)
            let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("lockstep: error:") }
            #expect(errors.count == 1 && errors[0].contains("peer2"), "\(run.stderr)")
            // The others stop their load: no worker thread keeps running past the abort.
            try expectEventually(seconds: 10, "a surviving peer kept generating load") {
                workers(peers[0].child.pid) == 0 && workers(peers[2].child.pid) == 0
            }
            for p in [sut] + [peers[0], peers[2]] { p.child.terminate(signal: SIGTERM) }
        }
    }
}
