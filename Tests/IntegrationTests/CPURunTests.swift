import Foundation
import Shared
import TestSupport
import Testing

@testable import Coordinator

#if canImport(Glibc)
    import Glibc
#endif

/// CPU and memory on the SUT alone with the canonical engines: Debian's hpcc under OpenMPI and xz,
/// a real run of each at a tiny size with its samples and labels and nothing left in the state
/// folder; a problem that does not fit refused before the step; the agent killed mid-suite taking
/// mpirun and every rank along.
extension Integration {
    @Suite struct CPURunTests {
        static var installed: Bool { Executable.find("hpcc") != nil && Executable.find("mpirun") != nil }

        /// One SUT agent, no peer, its own state folder.
        struct Rig {
            let scratch = Scratch()
            let token: String
            let state: String
            let sut: AgentProcess

            init() throws {
                token = try scratch.token().path
                state = scratch.path + "/state"
                sut = try AgentProcess(name: "sut", tokenPath: token, scratch: scratch, extra: ["--state-dir", state])
            }

            /// `lockstep WORKLOAD` against the agent.
            func run(_ workload: String, _ extra: [String], label: String) throws -> ChildProcess {
                try ChildProcess(
                    Binaries.coordinator,
                    [
                        workload, "--sut", sut.endpoint.description, "--token-file", token, "--out",
                        scratch.path + "/\(label)",
                    ]
                        + extra, scratch: scratch, label: label)
            }
        }

        /// Live processes named `name` (mpirun, hpcc, xz) whose working directory or command line is
        /// under `folder`.
        static func engines(_ name: String, under folder: String) -> [Int32] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.compactMap(Int32.init).filter { pid in
                guard ((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "").hasPrefix(name),
                    let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                    stat.split(separator: ")").last?.split(separator: " ").first != "Z"
                else { return false }
                let cwd = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")) ?? ""
                let cmdline = String(
                    decoding: FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data(), as: UTF8.self)
                return cwd.hasPrefix(folder) || cmdline.contains(folder)
            }
        }

        /// Files under `folder` whose name starts with `prefix`, recursively.
        static func files(_ prefix: String, under folder: String) -> [String] {
            ((FileManager.default.enumerator(atPath: folder)?.allObjects as? [String]) ?? []).filter {
                ($0 as NSString).lastPathComponent.hasPrefix(prefix)
            }
        }

        @Test func hpccAndXzRunOnTheSUTAloneWithTheirLabelsAndLeaveNothing() throws {
            guard Self.installed else {
                Issue.record("hpcc or openmpi-bin is not installed: scripts/install-deps.sh installs them")
                return
            }
            let rig = try Rig()
            defer { rig.sut.child.terminate() }
            let hpcc = try rig.run("hpcc", ["--n", "400", "--nb", "40"], label: "hpcc")
            #expect(hpcc.wait(seconds: 120) == 0, "\(hpcc.stderr)")
            let rows = try jsonLines(rig.scratch.path + "/hpcc/samples.jsonl")
            for metric in [
                "hpl_gflops", "hpl_peak_pct", "stream_triad_gb_per_sec", "stream_triad_single_gb_per_sec",
                "random_access_gups", "window_seconds",
            ] {
                let row = try #require(rows.first { $0["metric"] as? String == metric }, "no \(metric)")
                let labels = try #require(row["labels"] as? [String: String])
                #expect(labels["workload"] == "hpcc" && labels["mode"] == "native" && labels["n"] == "400")
                #expect(["avx512", "avx2", "avx", "sse2"].contains(labels["isa"] ?? ""), "\(labels)")
                #expect(labels["ranks"] == String(CPUView.current().usableCPUs) && labels["engine"] == "hpcc 1.5.0f")
                // OpenBLAS said which kernels it picked (the engine asks it to).
                #expect(labels["blas_core"]?.isEmpty == false, "\(labels)")
                #expect((row["value"] as? Double ?? 0) > 0, "\(metric)")
            }
            let info = try jsonObject(rig.scratch.path + "/hpcc/run.json")
            let step = try #require((info["steps"] as? [[String: Any]])?.first)
            #expect((step["engine"] as? String)?.contains("--allow-run-as-root") == true, "\(step)")

            let xz = try rig.run("compress", ["--threads", "2", "--level", "1", "--size", "4MiB"], label: "xz")
            #expect(xz.wait(seconds: 120) == 0, "\(xz.stderr)")
            let samples = try jsonLines(rig.scratch.path + "/xz/samples.jsonl")
            let ratio = try #require(samples.first { $0["metric"] as? String == "compress_ratio" }?["value"] as? Double)
            let rate = try #require(
                samples.first { $0["metric"] as? String == "compress_mb_per_sec" }?["value"] as? Double)
            #expect(ratio > 1.2 && ratio < 20 && rate > 0)
            // The session's folders (the input file, hpcc's output, the corpus) went with the session.
            #expect(Self.files("hpcc", under: rig.state).isEmpty && Self.files("corpus", under: rig.state).isEmpty)
            #expect(Self.engines("mpirun", under: rig.state).isEmpty && Self.engines("hpcc", under: rig.state).isEmpty)
        }

        @Test func aProblemThatDoesNotFitIsRefusedBeforeTheStepWithItsNumbers() throws {
            guard Self.installed else { Issue.record("hpcc is not installed"); return }
            let rig = try Rig()
            defer { rig.sut.child.terminate() }
            let run = try rig.run("hpcc", ["--n", "900000"], label: "big")
            #expect(run.wait(seconds: 60) == 1)
            let error = run.stderr.split(separator: "\n").first { $0.hasPrefix("lockstep: error:") } ?? ""
            #expect(error.contains("N=900000 needs") && error.contains("MiB"), "\(run.stderr)")
            #expect(Self.engines("mpirun", under: rig.state).isEmpty)
        }

        @Test func aKilledAgentTakesMpirunAndEveryRankAlong() throws {
            guard Self.installed else { Issue.record("hpcc is not installed"); return }
            let rig = try Rig()
            let run = try rig.run("hpcc", ["--n", "12000"], label: "long")
            let deadline = Date().addingTimeInterval(60)
            while Self.engines("hpcc", under: rig.state).isEmpty && Date() < deadline { usleep(50_000) }
            try #require(!Self.engines("hpcc", under: rig.state).isEmpty, "hpcc never ran: \(run.stderr)")
            #expect(!Self.engines("mpirun", under: rig.state).isEmpty)
            rig.sut.child.terminate(signal: SIGKILL)
            #expect(run.wait(seconds: 30) == 1)
            let gone = Date().addingTimeInterval(15)
            while !(Self.engines("hpcc", under: rig.state) + Self.engines("mpirun", under: rig.state)).isEmpty
                && Date() < gone
            {
                usleep(50_000)
            }
            #expect(Self.engines("mpirun", under: rig.state).isEmpty, "mpirun outlived its agent")
            #expect(Self.engines("hpcc", under: rig.state).isEmpty, "a rank outlived its agent")
        }

        @Test func aStoppedCoordinatorEndsTheSuiteThroughItsLease() throws {
            guard Self.installed else { Issue.record("hpcc is not installed"); return }
            let rig = try Rig()
            defer { rig.sut.child.terminate() }
            let run = try rig.run("hpcc", ["--n", "12000"], label: "lease")
            let deadline = Date().addingTimeInterval(60)
            while Self.engines("hpcc", under: rig.state).isEmpty && Date() < deadline { usleep(50_000) }
            try #require(!Self.engines("hpcc", under: rig.state).isEmpty, "hpcc never ran: \(run.stderr)")
            kill(run.pid, SIGKILL)
            let gone = Date().addingTimeInterval(20)
            while !(Self.engines("hpcc", under: rig.state) + Self.engines("mpirun", under: rig.state)).isEmpty
                && Date() < gone
            {
                usleep(50_000)
            }
            #expect((Self.engines("hpcc", under: rig.state) + Self.engines("mpirun", under: rig.state)).isEmpty)
            #expect(Self.files("hpcc", under: rig.state).isEmpty, "\(Self.files("hpcc", under: rig.state))")
        }
    }
}
