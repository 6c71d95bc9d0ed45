import Foundation
import Shared
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension Integration {
    /// `lockstep run PLAN` as users run it: two modes on loopback with repetitions and aggregates, a
    /// kill mid-plan and `--resume`, a changed plan refused, and the dry run of the paper's plan.
    @Suite struct PlanRunTests {
        static let plan = """
            modes: [native, netns-nat]
            repetitions: {min: 2, max: 2}
            confidence: {level: 95, width: 50}
            order: shuffle
            seed: 3
            experiments:
              - rr: {protocol: tcp, request: 100, response: 200, duration: 1s, warmup: 0s}
            """

        static func run(_ lab: Lab, _ arguments: [String], label: String) throws -> ChildProcess {
            try ChildProcess(
                Binaries.coordinator,
                [
                    "run", "--sut", lab.sut.endpoint.description, "--peer", lab.peer.endpoint.description,
                    "--token-file", lab.tokenPath,
                ] + arguments, scratch: lab.scratch, label: label)
        }

        @Test func aPlanRunsBothModesAndResumesAfterAKillRepeatingNothing() throws {
            let lab = try Lab()
            let planPath = lab.scratch.path + "/plan.yaml"
            try Self.plan.write(toFile: planPath, atomically: true, encoding: .utf8)
            let dir = lab.scratch.path + "/run"
            let first = try Self.run(lab, [planPath, "--out", dir, "--quiet"], label: "first")
            // Two of the four steps finished and the third running: kill the coordinator.
            try expectEventually(seconds: 60, "the third step never started") {
                let steps = Self.steps(dir)
                return steps.filter { $0.status == "complete" }.count == 2 && steps.contains { $0.status == "running" }
            }
            Thread.sleep(forTimeInterval: 0.3)
            kill(first.pid, SIGKILL)
            _ = first.wait(seconds: 5)
            let finishedBefore = Self.steps(dir).filter { $0.status == "complete" }.map(\.id)
            #expect(!first.stderr.contains("step "), "--quiet printed progress: \(first.stderr)")
            let before = try ResumeTests.summaries(dir)
            #expect(Set(before.keys) == Set(finishedBefore))

            // A changed plan is refused, naming what changed, and touches nothing.
            let changedPath = lab.scratch.path + "/changed.yaml"
            try Self.plan.replacingOccurrences(of: "max: 2", with: "max: 3")
                .write(toFile: changedPath, atomically: true, encoding: .utf8)
            let changed = try Self.run(lab, [changedPath, "--resume", dir], label: "changed")
            #expect(changed.wait(seconds: 30) == 1)
            #expect(changed.stderr.contains("repetition.maximum: 2 -> 3"), "\(changed.stderr)")

            let resumed = try Self.run(lab, [planPath, "--resume", dir], label: "resumed")
            #expect(resumed.wait(seconds: 90) == 0, "stderr: \(resumed.stderr)")
            for id in finishedBefore { #expect(resumed.stderr.contains("step \(id): finished before, kept")) }
            // Not on a terminal: a line per step begun (counting the kept ones) and per step done.
            #expect(resumed.stderr.contains("(3 of 4)"), "\(resumed.stderr)")
            #expect(resumed.stderr.contains(": done, latency_mean_us "), "\(resumed.stderr)")
            let after = try ResumeTests.summaries(dir)
            for id in finishedBefore { #expect(after[id] == before[id], "\(id) ran again") }
            // Each cell ran exactly its two repetitions, round by round, in the seed's order.
            let steps = Self.steps(dir)
            #expect(steps.allSatisfy { $0.status == "complete" })
            #expect(
                steps.map(\.id).sorted() == [
                    "rr-tcp-native-r1", "rr-tcp-native-r2", "rr-tcp-netns-nat-r1", "rr-tcp-netns-nat-r2",
                ])
            #expect(steps.prefix(2).allSatisfy { $0.id.hasSuffix("-r1") })

            // Samples carry cell, repetition and mode; aggregates hold one row per cell and metric.
            let samples = try jsonLines(dir + "/samples.jsonl")
            let labels = samples.compactMap { $0["labels"] as? [String: String] }
            #expect(labels.allSatisfy { $0["cell"] != nil && $0["repetition"] != nil && $0["mode"] != nil })
            // Every step carries each agent's provenance fingerprint (in netns-nat the guest's and the host's too).
            #expect(labels.allSatisfy { ($0["provenance"] ?? "").contains("peer=") })
            #expect(Set(labels.compactMap { $0["mode"] }) == ["native", "netns-nat"])
            let aggregates = try jsonLines(dir + "/aggregates.jsonl")
            let headline = aggregates.filter { $0["headline"] as? Bool == true }
            #expect(headline.count == 2)
            for row in headline {
                #expect(row["n"] as? Int == 2)
                #expect(row["metric"] as? String == "latency_mean_us")
                #expect(row["ci_half_width"] as? Double != nil && row["confidence_met"] as? Bool != nil)
            }
            let nat = try #require(headline.first { $0["mode"] as? String == "netns-nat" })
            #expect(nat["native_cell"] as? String == "rr-tcp-native")
            let ratio = try #require(nat["ratio_to_native"] as? Double)
            #expect(ratio > 0.3 && ratio < 5, "netns-nat/native latency \(ratio)")
            #expect((nat["ratio_ci_low"] as? Double ?? .infinity) <= ratio)
            #expect(resumed.stdout.contains("vs native"), "\(resumed.stdout)")
            let info = try ResumeTests.runInfo(dir)
            #expect((info["repetition"] as? [String: Any])?["seed"] as? Int == 3)
            let agents = try #require(info["agents"] as? [[String: Any]])
            #expect(
                agents.allSatisfy {
                    (($0["host"] as? [String: Any])?["provenance"] as? [String: Any])?["sysctls"] != nil
                })
            #expect(FileManager.default.fileExists(atPath: dir + "/plan.yaml"))
        }

        @Test func theDryRunOfThePapersPlanPrintsTheScheduleAndStartsNothing() throws {
            let lab = try Lab()
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().path
            let out = lab.scratch.path + "/dry"
            let dry = try Self.run(
                lab, [root + "/deploy/plans/felter2014.yaml", "--dry-run", "--out", out], label: "dry")
            let status = dry.wait(seconds: 60)
            #expect(dry.stdout.contains("142 cells, 426 steps at least, 1420 at most"), "\(dry.stdout)")
            #expect(
                dry.stdout.contains("mysql-t290-docker-nat-layered")
                    && dry.stdout.contains("fio-randread-4k-qd16x8-kvm"))
            #expect(dry.stdout.contains("mysql-t290-kvm"))
            // No guest image was built on this agent's host: the dry run says so (and how to build
            // one) and fails, having started nothing.
            #expect(dry.stdout.contains("missing: kvm needs a guest image"), "\(dry.stdout)")
            #expect(dry.stdout.contains("lockstep-agent vm build"), "\(dry.stdout)")
            #expect(status == 1)
            #expect(!FileManager.default.fileExists(atPath: out))
        }

        struct StepRow {
            var id: String
            var status: String
        }

        static func steps(_ dir: String) -> [StepRow] {
            guard let info = try? ResumeTests.runInfo(dir), let steps = info["steps"] as? [[String: Any]] else {
                return []
            }
            return steps.map { StepRow(id: $0["id"] as? String ?? "?", status: $0["status"] as? String ?? "?") }
        }
    }
}
