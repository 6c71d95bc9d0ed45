import Foundation
import Shared
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension Integration {
    /// Promise: nothing finished is lost. A sweep whose coordinator is killed continues with
    /// `--resume` at the first unfinished step and never repeats a finished one.
    @Suite struct ResumeTests {
        static let sweep = ["--protocol", "tcp,udp,tcp", "--duration", "1.5s", "--warmup", "0"]

        /// Step id → its summary samples (metric → value), from `samples.jsonl`.
        static func summaries(_ dir: String) throws -> [String: [String: Double]] {
            var out: [String: [String: Double]] = [:]
            for sample in try jsonLines(dir + "/samples.jsonl") {
                let labels = sample["labels"] as? [String: String] ?? [:]
                guard labels["kind"] != "interval", let step = labels["step"], let metric = sample["metric"] as? String
                else { continue }
                #expect(out[step]?[metric] == nil, "\(metric) of \(step) written twice")
                out[step, default: [:]][metric] = sample["value"] as? Double
            }
            return out
        }

        static func runInfo(_ dir: String) throws -> [String: Any] {
            try jsonObject(dir + "/run.json")
        }

        static func stepStatus(_ dir: String) -> [String: String] {
            guard let info = try? runInfo(dir), let steps = info["steps"] as? [[String: Any]] else { return [:] }
            var out: [String: String] = [:]
            for step in steps { out[step["id"] as? String ?? "?"] = step["status"] as? String }
            return out
        }

        @Test func aKilledSweepResumesAtTheFirstUnfinishedStepAndRepeatsNothing() throws {
            let lab = try Lab()
            let whole = lab.scratch.path + "/whole"
            let uninterrupted = try lab.rr(Self.sweep, out: whole, label: "whole")
            #expect(uninterrupted.wait(seconds: 60) == 0, "stderr: \(uninterrupted.stderr)")

            let dir = lab.scratch.path + "/interrupted"
            let first = try lab.rr(Self.sweep, out: dir, label: "first")
            try expectEventually(seconds: 30, "step 2 never started") {
                let status = Self.stepStatus(dir)
                return status["rr-tcp-1"] == "complete" && status["rr-udp-2"] == "running"
            }
            Thread.sleep(forTimeInterval: 0.5)  // into step 2's measurement
            kill(first.pid, SIGKILL)
            _ = first.wait(seconds: 5)
            let before = try Self.summaries(dir)
            #expect(Set(before.keys) == ["rr-tcp-1"], "only the finished step is on disk")

            let resumed = try lab.resume(Self.sweep, dir: dir)
            #expect(resumed.wait(seconds: 60) == 0, "stderr: \(resumed.stderr)")
            #expect(resumed.stderr.contains("step rr-tcp-1: finished before, kept"))
            #expect(resumed.stdout.contains("resumed: 2 step(s) run now, 1 finished before"))

            let after = try Self.summaries(dir)
            let reference = try Self.summaries(whole)
            #expect(Set(after.keys) == Set(reference.keys))
            for (step, metrics) in reference {
                #expect(Set(after[step]?.keys ?? [:].keys) == Set(metrics.keys), "metrics of \(step)")
            }
            // The finished step was not run again: its numbers are the ones written before the kill.
            #expect(after["rr-tcp-1"] == before["rr-tcp-1"])
            #expect(Self.stepStatus(dir) == ["rr-tcp-1": "complete", "rr-udp-2": "complete", "rr-tcp-3": "complete"])
            let info = try Self.runInfo(dir)
            #expect(info["status"] as? String == "complete")
            #expect((info["resumed_at"] as? [String])?.count == 1)
            let summary = try String(contentsOfFile: dir + "/summary.csv", encoding: .utf8)
            #expect(
                summary.split(separator: "\n").map { $0.split(separator: ",").first } == [
                    "step", "rr-tcp-1", "rr-udp-2", "rr-tcp-3",
                ])
            for step in ["rr-tcp-1", "rr-udp-2", "rr-tcp-3"] {
                #expect(FileManager.default.fileExists(atPath: "\(dir)/histograms/\(step).hgrm"))
            }
            let log = try jsonLines(dir + "/merged-log.jsonl")
            #expect(log.contains { $0["event"] as? String == "run.resume" })
        }

        /// A results disk that fills mid-run (a 64 KiB tmpfs): the run ends with one line naming the
        /// file and ENOSPC, every file in the folder is still whole JSON (no half line, no temporary
        /// file left), and `--resume` once the disk has room completes the run without a duplicate.
        @Test func aFullResultsDiskEndsTheRunWithEveryFileWholeAndResumeCompletesIt() throws {
            let lab = try Lab()
            let mount = lab.scratch.path + "/small"
            try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
            try #require(Self.sh("mount -t tmpfs -o size=64k tmpfs '\(mount)'") == 0, "cannot mount a tmpfs")
            defer { _ = Self.sh("umount '\(mount)'") }
            let dir = mount + "/run"
            let sweep = ["--protocol", "tcp,udp,tcp,udp", "--duration", "0.5s", "--warmup", "0"]
            let full = try lab.rr(sweep, out: dir, label: "full")
            #expect(full.wait(seconds: 60) == 1, "stderr: \(full.stderr)")
            let errors = full.stderr.split(separator: "\n").filter { $0.hasPrefix("lockstep: error:") }
            #expect(errors.count == 1 && errors[0].contains("ENOSPC") && errors[0].contains(dir), "\(full.stderr)")
            let files = try FileManager.default.subpathsOfDirectory(atPath: dir)
            #expect(!files.contains { $0.hasSuffix(".tmp") }, "temporary files left: \(files)")
            for file in files where file.hasSuffix(".jsonl") {
                let text = try String(contentsOfFile: dir + "/" + file, encoding: .utf8)
                #expect(text.isEmpty || text.hasSuffix("\n"), "\(file) ends in half a line")
                for line in text.split(separator: "\n") {
                    #expect(
                        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "\(file): \(line.prefix(80))"
                    )
                }
            }
            _ = try Self.runInfo(dir)  // whole JSON
            let finishedBefore = Self.stepStatus(dir).values.filter { $0 == "complete" }.count
            #expect(finishedBefore < 4, "the disk did not fill (\(finishedBefore) steps finished)")

            #expect(Self.sh("mount -o remount,size=20m '\(mount)'") == 0)
            let resumed = try lab.resume(sweep, dir: dir)
            #expect(resumed.wait(seconds: 60) == 0, "stderr: \(resumed.stderr)")
            let steps = try Self.summaries(dir)  // fails on a metric written twice
            #expect(steps.count == 4 && steps.values.allSatisfy { $0["transactions_per_sec"] != nil }, "\(steps.keys)")
            #expect(Self.stepStatus(dir).values.allSatisfy { $0 == "complete" })
        }

        static func sh(_ command: String) -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", command]
            try? p.run()
            p.waitUntilExit()
            return p.terminationStatus
        }

        @Test func resumingWithOtherParametersIsRefusedAndChangesNothing() throws {
            let lab = try Lab()
            let dir = lab.scratch.path + "/run"
            let first = try lab.rr(["--duration", "0.5s", "--warmup", "0"], out: dir, label: "first")
            #expect(first.wait(seconds: 30) == 0, "stderr: \(first.stderr)")
            let samples = try String(contentsOfFile: dir + "/samples.jsonl", encoding: .utf8)
            // run.json records every step's full encoded spec: workload, timing and placement.
            let plan = try #require(try Self.runInfo(dir)["plan"] as? [[String: Any]])
            let spec = try #require(plan.first?["spec"] as? [String: Any])
            #expect(plan.first?["id"] as? String == "rr-tcp-1")
            #expect((spec["placement"] as? [String: Any])?["mode"] as? String == "native")
            #expect((spec["timing"] as? [String: Any])?["durationNs"] as? Int == 500_000_000)
            #expect(((spec["workload"] as? [String: Any])?["rr"] as? [String: Any])?["requestSize"] as? Int == 100)

            let other = try ChildProcess(
                Binaries.coordinator,
                [
                    "rr", "--sut", lab.sut.endpoint.description, "--peer", lab.peer.endpoint.description,
                    "--token-file", lab.tokenPath, "--resume", dir, "--duration", "0.5s", "--warmup", "0",
                    "--request", "64",
                ], scratch: lab.scratch, label: "other")
            #expect(other.wait(seconds: 30) == 1)
            let lines = other.stderr.split(separator: "\n").filter { $0.hasPrefix("lockstep: error:") }
            #expect(lines.count == 1)
            #expect(
                lines.first?.contains("holds a different run: step rr-tcp-1: workload.rr.requestSize: 100 -> 64")
                    == true,
                "\(other.stderr)")
            #expect(try String(contentsOfFile: dir + "/samples.jsonl", encoding: .utf8) == samples)

            // A placement that changed is refused as well, naming the field.
            let pinned = try ChildProcess(
                Binaries.coordinator,
                [
                    "rr", "--sut", lab.sut.endpoint.description, "--peer", lab.peer.endpoint.description,
                    "--token-file", lab.tokenPath, "--resume", dir, "--duration", "0.5s", "--warmup", "0",
                    "--sut-cpus", "0",
                ], scratch: lab.scratch, label: "pinned")
            #expect(pinned.wait(seconds: 30) == 1)
            #expect(pinned.stderr.contains("step rr-tcp-1: placement.sutCPUs: absent -> [0]"), "\(pinned.stderr)")

            let again = try lab.rr(["--duration", "0.5s"], out: dir, label: "again")
            #expect(again.wait(seconds: 30) == 1)
            #expect(again.stderr.contains("already holds a run"))
            #expect(again.stderr.contains("--resume"))
        }
    }
}
