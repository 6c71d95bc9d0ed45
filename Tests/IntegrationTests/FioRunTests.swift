import Foundation
import Shared
import TestSupport
import Testing

@testable import Coordinator

#if canImport(Glibc)
    import Glibc
#endif

/// Block I/O with Debian's fio on the SUT alone: a real run with no peer, its samples and labels,
/// the storage folder left empty; and its faults: a storage folder that is not there (refused
/// before any step), fio killed mid-step (one line, nothing left), the coordinator killed (the lease
/// stops fio and removes its data).
extension Integration {
    @Suite struct FioRunTests {
        static var installed: Bool { Executable.find("fio") != nil }

        /// `lockstep fio` against one agent, with no peer, storing under `storage`.
        static func fio(
            _ agent: AgentProcess, token: String, storage: String, out: String, scratch: Scratch,
            _ extra: [String], label: String
        ) throws -> ChildProcess {
            try ChildProcess(
                Binaries.coordinator,
                [
                    "fio", "--sut", agent.endpoint.description, "--token-file", token, "--rw", "randread", "--bs",
                    "4KiB", "--size", "16MiB", "--storage-dir", storage, "--out", out,
                ] + extra, scratch: scratch, label: label)
        }

        /// Files under `folder`, recursively.
        static func contents(_ folder: String) -> [String] {
            (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String]) ?? []
        }

        /// The fio processes whose command line names `folder`.
        static func fios(in folder: String) -> [Int32] {
            processes(mentioning: folder).filter { pid in
                ((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "").hasPrefix("fio")
            }
        }

        /// The fio processes running a step's job (not the prefill) in `folder`.
        static func stepJobs(in folder: String) -> [Int32] {
            fios(in: folder).filter { pid in
                ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains("time_based")
            }
        }

        @Test func aRandomReadRunsOnTheSUTAloneAndLeavesTheStorageFolderEmpty() throws {
            guard Self.installed else {
                Issue.record("fio is not installed: scripts/install-deps.sh installs it"); return
            }
            let scratch = Scratch()
            let token = try scratch.token().path
            let sut = try AgentProcess(name: "sut", tokenPath: token, scratch: scratch)
            let storage = scratch.path + "/storage"
            try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
            let out = scratch.path + "/run"
            let run = try Self.fio(
                sut, token: token, storage: storage, out: out, scratch: scratch,
                ["--iodepth", "1,16", "--duration", "1s", "--warmup", "0.3s"], label: "fio")
            #expect(run.wait(seconds: 120) == 0, "\(run.stderr)")
            let samples = try jsonLines(out + "/samples.jsonl")
            for step in ["fio-randread-4k-qd1-1", "fio-randread-4k-qd16-2"] {
                for metric in ["iops", "bandwidth_mb_per_sec", "clat_p99_us", "clat_mean_us", "sut_cpu_us_per_op"] {
                    #expect((summaryValue(samples, metric, step: step) ?? 0) > 0, "\(step) \(metric)")
                }
                let iops = try #require(
                    samples.first {
                        $0["metric"] as? String == "iops" && ($0["labels"] as? [String: String])?["step"] == step
                    })
                let labels = try #require(iops["labels"] as? [String: String])
                #expect(labels["workload"] == "fio" && labels["direction"] == "read" && labels["storage"] == "folder")
                #expect(labels["job"]?.hasPrefix("randread-4k-qd") == true && labels["mode"] == "native")
                #expect(FileManager.default.fileExists(atPath: "\(out)/histograms/\(step).hgrm"))
            }
            // A deeper queue completes more I/Os (on one virtio disk, up to its limit).
            let qd1 = summaryValue(samples, "iops", step: "fio-randread-4k-qd1-1") ?? 0
            let qd16 = summaryValue(samples, "iops", step: "fio-randread-4k-qd16-2") ?? 0
            #expect(qd16 > qd1, "QD16 \(qd16) vs QD1 \(qd1)")
            // The job ran without a peer: run.json has one agent, and the table printed.
            let info = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/run.json")))
            #expect(((info as? [String: Any])?["agents"] as? [[String: Any]])?.count == 1)
            #expect(run.stdout.contains("IOPS"), "\(run.stdout)")
            #expect(Self.contents(storage).isEmpty, "left in the storage folder: \(Self.contents(storage))")
            sut.child.terminate()
        }

        @Test func aMissingStorageFolderIsRefusedBeforeAnyStep() throws {
            guard Self.installed else { Issue.record("fio is not installed"); return }
            let scratch = Scratch()
            let token = try scratch.token().path
            let sut = try AgentProcess(name: "sut", tokenPath: token, scratch: scratch)
            let out = scratch.path + "/run"
            let run = try Self.fio(
                sut, token: token, storage: scratch.path + "/nowhere", out: out, scratch: scratch,
                ["--duration", "1s"],
                label: "fio")
            #expect(run.wait(seconds: 60) == 1)
            let line = run.stderr.split(separator: "\n").last.map(String.init) ?? ""
            #expect(
                line.hasPrefix("lockstep: error: mode-prerequisites:") && line.contains("does not exist"),
                "\(run.stderr)")
            let info = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/run.json")))
            #expect(((info as? [String: Any])?["steps"] as? [Any])?.isEmpty == true)
            sut.child.terminate()
        }

        @Test func fioKilledMidStepIsOneLineAndNothingIsLeft() throws {
            guard Self.installed else { Issue.record("fio is not installed"); return }
            let scratch = Scratch()
            let token = try scratch.token().path
            let sut = try AgentProcess(name: "sut", tokenPath: token, scratch: scratch)
            let storage = scratch.path + "/storage"
            try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
            let run = try Self.fio(
                sut, token: token, storage: storage, out: scratch.path + "/run", scratch: scratch,
                ["--duration", "20s", "--warmup", "0"], label: "fio")
            let deadline = Date().addingTimeInterval(30)
            var victims: [Int32] = []
            while victims.isEmpty && Date() < deadline {
                victims = Self.fios(in: storage).filter { pid in
                    ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains(
                        "time_based")
                }
                usleep(50_000)
            }
            try #require(!victims.isEmpty, "fio never ran the step's job")
            for pid in victims { kill(pid, SIGKILL) }
            #expect(run.wait(seconds: 30) == 1)
            let line =
                run.stderr.split(separator: "\n").filter { $0.hasPrefix("lockstep: error:") }.first.map(String.init)
                ?? ""
            #expect(line.contains("fio job randread-4k-qd16") && line.contains("killed by signal 9"), "\(run.stderr)")
            usleep(500_000)
            #expect(Self.contents(storage).isEmpty, "left: \(Self.contents(storage))")
            #expect(Self.fios(in: storage).isEmpty)
            sut.child.terminate()
        }

        @Test func aKilledCoordinatorStopsFioThroughTheLeaseAndTheDataGoes() throws {
            guard Self.installed else { Issue.record("fio is not installed"); return }
            let scratch = Scratch()
            let token = try scratch.token().path
            let sut = try AgentProcess(name: "sut", tokenPath: token, scratch: scratch)
            let storage = scratch.path + "/storage"
            try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
            let run = try Self.fio(
                sut, token: token, storage: storage, out: scratch.path + "/run", scratch: scratch,
                ["--duration", "30s", "--warmup", "0"], label: "fio")
            let deadline = Date().addingTimeInterval(30)
            while Self.stepJobs(in: storage).isEmpty && Date() < deadline { usleep(50_000) }
            try #require(!Self.stepJobs(in: storage).isEmpty, "fio never ran the step's job")
            usleep(300_000)
            run.terminate(signal: SIGKILL)
            // The agent's lease (3 s) ends the session: fio stopped, the data folder removed.
            let gone = Date().addingTimeInterval(15)
            while (!Self.fios(in: storage).isEmpty || !Self.contents(storage).isEmpty) && Date() < gone {
                usleep(100_000)
            }
            #expect(Self.fios(in: storage).isEmpty, "fio still runs")
            #expect(Self.contents(storage).isEmpty, "left: \(Self.contents(storage))")
            sut.child.terminate()
        }

        @Test func aKilledAgentTakesFioAlongAndTheNextStartSweepsItsData() throws {
            guard Self.installed else { Issue.record("fio is not installed"); return }
            let scratch = Scratch()
            let token = try scratch.token().path
            let state = scratch.path + "/state"
            let sut = try AgentProcess(name: "sut", tokenPath: token, scratch: scratch, extra: ["--state-dir", state])
            let storage = scratch.path + "/storage"
            try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
            let run = try Self.fio(
                sut, token: token, storage: storage, out: scratch.path + "/run", scratch: scratch,
                ["--duration", "30s", "--warmup", "0"], label: "fio")
            let deadline = Date().addingTimeInterval(30)
            while Self.stepJobs(in: storage).isEmpty && Date() < deadline { usleep(50_000) }
            try #require(!Self.stepJobs(in: storage).isEmpty, "fio never ran the step's job")
            sut.child.terminate(signal: SIGKILL)
            #expect(run.wait(seconds: 30) == 1)
            // The kernel ends fio with its agent (parent-death signal); the data stays until a sweep.
            let gone = Date().addingTimeInterval(10)
            while !Self.fios(in: storage).isEmpty && Date() < gone { usleep(50_000) }
            #expect(Self.fios(in: storage).isEmpty, "fio outlived its agent")
            #expect(!Self.contents(storage).isEmpty)
            let next = try AgentProcess(
                name: "sut2", tokenPath: token, scratch: scratch, extra: ["--state-dir", state])
            let swept = Date().addingTimeInterval(10)
            while !Self.contents(storage).isEmpty && Date() < swept { usleep(50_000) }
            #expect(Self.contents(storage).isEmpty, "the next start left: \(Self.contents(storage))")
            next.child.terminate()
        }
    }
}
