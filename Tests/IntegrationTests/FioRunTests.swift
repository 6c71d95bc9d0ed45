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
/// before any step), fio killed mid-step (one line, nothing left), the coordinator killed (the session
/// ends: fio stopped, its data removed), the agent killed (fio goes with it, the next start sweeps).
extension Integration {
    @Suite struct FioRunTests {
        static var installed: Bool { Executable.find("fio") != nil }

        /// One SUT agent, no peer, and a storage folder.
        struct Rig {
            let scratch = Scratch()
            let token: String
            let state: String
            let storage: String
            let sut: AgentProcess

            init() throws {
                token = try scratch.token().path
                state = scratch.path + "/state"
                storage = scratch.path + "/storage"
                try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
                sut = try AgentProcess(name: "sut", tokenPath: token, scratch: scratch, extra: ["--state-dir", state])
            }

            /// `lockstep fio` (4 KiB random reads, 16 MiB) against the agent, storing under `storage`.
            func fio(_ extra: [String], storage: String? = nil, out: String? = nil, label: String = "fio") throws
                -> ChildProcess
            {
                try FioRunTests.fio(
                    sut, token: token, storage: storage ?? self.storage, out: out ?? scratch.path + "/\(label)",
                    scratch: scratch, extra, label: label)
            }

            /// The fio processes of a step's job (not the prefill), once there are some (30 s at most).
            func stepJobs() throws -> [Int32] {
                let deadline = Date().addingTimeInterval(30)
                var jobs = FioRunTests.stepJobs(in: storage)
                while jobs.isEmpty && Date() < deadline {
                    usleep(50_000)
                    jobs = FioRunTests.stepJobs(in: storage)
                }
                try #require(!jobs.isEmpty, "fio never ran the step's job")
                return jobs
            }

            /// Waits up to `seconds` for no fio in the storage folder and nothing left in it.
            func expectCleared(within seconds: Double, sourceLocation: SourceLocation = #_sourceLocation) {
                let deadline = Date().addingTimeInterval(seconds)
                while (!FioRunTests.fios(in: storage).isEmpty || !FioRunTests.contents(storage).isEmpty)
                    && Date() < deadline
                {
                    usleep(50_000)
                }
                #expect(FioRunTests.fios(in: storage).isEmpty, "fio still runs", sourceLocation: sourceLocation)
                #expect(
                    FioRunTests.contents(storage).isEmpty, "left: \(FioRunTests.contents(storage))",
                    sourceLocation: sourceLocation)
            }
        }

        /// `lockstep fio` against one agent, with no peer, storing under `storage`.
        static func fio(
            _ agent: AgentProcess, token: String, storage: String, out: String, scratch: Scratch, _ extra: [String],
            label: String
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

        /// The run's one error line.
        static func errorLine(_ run: ChildProcess) -> String {
            run.stderr.split(separator: "\n").first { $0.hasPrefix("lockstep: error:") }.map(String.init) ?? ""
        }

        @Test func aRandomReadRunsOnTheSUTAloneAndLeavesTheStorageFolderEmpty() throws {
            guard Self.installed else {
                Issue.record("fio is not installed: scripts/install-deps.sh installs it"); return
            }
            let rig = try Rig()
            let out = rig.scratch.path + "/run"
            let run = try rig.fio(["--iodepth", "1,16", "--duration", "1s", "--warmup", "0.3s"], out: out)
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
            // The job ran without a peer: run.json has one agent and records fio's command line.
            let info = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/run.json")))
                    as? [String: Any])
            #expect((info["agents"] as? [[String: Any]])?.count == 1)
            let steps = try #require(info["steps"] as? [[String: Any]])
            #expect(steps.allSatisfy { ($0["engine"] as? String)?.hasPrefix("fio-3") == true }, "\(steps)")
            #expect(run.stdout.contains("IOPS"), "\(run.stdout)")
            rig.expectCleared(within: 1)
            rig.sut.child.terminate()
        }

        @Test func aMissingStorageFolderIsRefusedBeforeAnyStep() throws {
            guard Self.installed else { Issue.record("fio is not installed"); return }
            let rig = try Rig()
            let out = rig.scratch.path + "/run"
            let run = try rig.fio(["--duration", "1s"], storage: rig.scratch.path + "/nowhere", out: out)
            #expect(run.wait(seconds: 60) == 1)
            let line = Self.errorLine(run)
            #expect(
                line.hasPrefix("lockstep: error: mode-prerequisites:") && line.contains("does not exist"),
                "\(run.stderr)")
            let info = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/run.json")))
            #expect(((info as? [String: Any])?["steps"] as? [Any])?.isEmpty == true)
            rig.sut.child.terminate()
        }

        @Test func fioKilledMidStepIsOneLineAndNothingIsLeft() throws {
            guard Self.installed else { Issue.record("fio is not installed"); return }
            let rig = try Rig()
            let run = try rig.fio(["--duration", "20s", "--warmup", "0"])
            for pid in try rig.stepJobs() { kill(pid, SIGKILL) }
            #expect(run.wait(seconds: 30) == 1)
            let line = Self.errorLine(run)
            #expect(line.contains("fio job randread-4k-qd16") && line.contains("killed by signal 9"), "\(run.stderr)")
            rig.expectCleared(within: 5)
            rig.sut.child.terminate()
        }

        @Test func aKilledCoordinatorStopsFioAndTheDataGoes() throws {
            guard Self.installed else { Issue.record("fio is not installed"); return }
            let rig = try Rig()
            let run = try rig.fio(["--duration", "30s", "--warmup", "0"])
            _ = try rig.stepJobs()
            usleep(300_000)
            run.terminate(signal: SIGKILL)
            // The session ends (the connection drops, or the 3 s lease runs out): fio stopped, data removed.
            rig.expectCleared(within: 15)
            rig.sut.child.terminate()
        }

        @Test func aKilledAgentTakesFioAlongAndTheNextStartSweepsItsData() throws {
            guard Self.installed else { Issue.record("fio is not installed"); return }
            let rig = try Rig()
            let run = try rig.fio(["--duration", "30s", "--warmup", "0"])
            _ = try rig.stepJobs()
            rig.sut.child.terminate(signal: SIGKILL)
            #expect(run.wait(seconds: 30) == 1)
            // The kernel ends fio with its agent (parent-death signal); the data stays until a sweep.
            let gone = Date().addingTimeInterval(10)
            while !Self.fios(in: rig.storage).isEmpty && Date() < gone { usleep(50_000) }
            #expect(Self.fios(in: rig.storage).isEmpty, "fio outlived its agent")
            #expect(!Self.contents(rig.storage).isEmpty)
            let next = try AgentProcess(
                name: "sut2", tokenPath: rig.token, scratch: rig.scratch, extra: ["--state-dir", rig.state])
            rig.expectCleared(within: 10)
            next.child.terminate()
        }
    }
}
