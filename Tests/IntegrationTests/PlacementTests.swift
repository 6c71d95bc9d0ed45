import Foundation
import Shared
import TestSupport
import Testing

@testable import Coordinator

#if canImport(Glibc)
    import Glibc
#endif

extension Integration {
    /// The placement's pinning is applied, not only recorded: the SUT's server and the peer's load
    /// threads run on the CPUs asked for, and a CPU the host does not have is refused before anything runs.
    @Suite struct PlacementTests {
        /// `Cpus_allowed_list` of a process or thread (`/proc/PID/status` or `/proc/self/task/TID/status`).
        static func allowedCPUs(_ statusPath: String) -> String? {
            guard let text = try? String(contentsOfFile: statusPath, encoding: .utf8) else { return nil }
            return text.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
                .map { $0.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces) }
        }

        /// The allowed CPUs of every thread of this process named `name`.
        static func threadCPUs(named name: String) -> [String] {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
            return tasks.compactMap { tid in
                let comm = (try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8)) ?? ""
                guard comm.trimmingCharacters(in: .whitespacesAndNewlines) == name else { return nil }
                return allowedCPUs("/proc/self/task/\(tid)/status")
            }
        }

        @Test func redisServerAndLoadThreadsRunWhereThePlacementSays() async throws {
            guard ProcessInfo.processInfo.activeProcessorCount >= 2 else {
                Issue.record("this check needs two CPUs; the machine has one")
                return
            }
            let lab = try await InProcessPair()
            let seen = Task.detached { () -> (server: String?, workers: [String]) in
                var server: String?
                var workers: [String] = []
                let deadline = Date().addingTimeInterval(20)
                while Date() < deadline && (server == nil || workers.isEmpty) {
                    if server == nil, let pid = children(of: getpid(), named: "redis-server").first {
                        server = PlacementTests.allowedCPUs("/proc/\(pid)/status")
                    }
                    if workers.isEmpty { workers = PlacementTests.threadCPUs(named: "redis-worker") }
                    try await Task.sleep(for: .milliseconds(20))
                }
                return (server, workers)
            }
            let outcomes = try await lab.run(
                [Workload(RedisSpec(connections: 2))], durationNs: 1_500_000_000,
                placement: Placement(sutCPUs: [1], peerCPUs: [0]), out: lab.scratch.path + "/run")
            await lab.shutdown()
            let (server, workers) = try await seen.value
            #expect(server == "1", "redis-server allowed on \(server ?? "?")")
            #expect(!workers.isEmpty && workers.allSatisfy { $0 == "0" }, "load threads allowed on \(workers)")
            #expect(outcomes.first?.plan.placement.sutCPUs == [1])
            let run =
                try jsonObject(lab.scratch.path + "/run/run.json")
            let placement = ((run["plan"] as? [[String: Any]])?.first?["spec"] as? [String: Any])?["placement"]
            #expect((placement as? [String: Any])?["sutCPUs"] as? [Int] == [1])
            #expect((placement as? [String: Any])?["peerCPUs"] as? [Int] == [0])
        }

        @Test func aCPUTheHostDoesNotHaveIsRefusedAtPrepare() async throws {
            let lab = try await InProcessPair()
            await #expect {
                _ = try await lab.run(
                    [Workload(RRSpec())], placement: Placement(sutCPUs: [1000]), out: lab.scratch.path + "/run")
            } throws: { error in
                let e = error as? WireError
                return e?.code == .badStep && e?.message.contains("cannot pin to CPU 1000") == true
            }
            await lab.shutdown()
        }
    }
}
