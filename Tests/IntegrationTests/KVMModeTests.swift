import Foundation
import Shared
import TestSupport
import Testing

@testable import Agent

#if canImport(Glibc)
    import Glibc
#endif

/// The guest image the kvm tests boot: `lockstep-agent vm build` of this build's agent (with its
/// Swift libraries) and Debian's kernel package, made once per agent binary and kept in /tmp as a
/// cache (about 270 MB), since every test of a run boots the same one.
enum TestGuestImage {
    static let folder = NSTemporaryDirectory() + "lockstep-test-vm"

    /// The image folder, built now if the agent changed since it was made; `nil` with why not.
    static let built: Result<String, BuildFailure> = {
        let stamp = folder + "/agent.stamp"
        let attributes = try? FileManager.default.attributesOfItem(atPath: Binaries.agent)
        let id = "\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0) \(attributes?[.size] ?? 0)"
        if (try? String(contentsOfFile: stamp, encoding: .utf8)) == id,
            FileManager.default.fileExists(atPath: folder + "/manifest.json")
        {
            return .success(folder)
        }
        try? FileManager.default.removeItem(atPath: folder)
        let scratch = Scratch()
        guard
            let build = try? ChildProcess(
                Binaries.agent, ["vm", "build", "--agent", Binaries.agent, "--out", folder], scratch: scratch,
                label: "vm-build")
        else { return .failure(BuildFailure(message: "cannot start lockstep-agent vm build")) }
        guard build.wait(seconds: 600) == 0 else {
            return .failure(BuildFailure(message: "vm build failed: \(build.stderr) \(build.stdout)"))
        }
        try? id.write(toFile: stamp, atomically: true, encoding: .utf8)
        return .success(folder)
    }()

    struct BuildFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

extension Integration {
    /// The kvm mode under TCG (this machine's /dev/kvm cannot boot a stock kernel): every workload
    /// through one guest, the host CPU's breakdown beside the guest's own view, the guest's clock,
    /// the merged log's order, and the teardown on every way a session ends. Needs root.
    @Suite struct KVMModeTests {
        static func image() throws -> String { try TestGuestImage.built.get() }

        @Test func everyWorkloadRunsThroughOneTCGGuestAndNothingIsLeft() throws {
            let image = try Self.image()
            let before = HostLeftovers.now()
            let lab = try Lab()
            let plan = lab.scratch.path + "/kvm.yaml"
            let storage = lab.scratch.path + "/storage"
            try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
            try """
            modes: [kvm]
            repetitions: {min: 1, max: 1}
            vm-image: \(image)
            accel: tcg
            vm-memory: 2GiB
            storage-dir: \(storage)
            vm-disk-format: qcow2
            vm-disk-cache: none
            experiments:
              - rr: {protocol: [tcp, udp], duration: 1s, warmup: 0.3s}
              - stream: {direction: [sut-tx, sut-rx], duration: 1s, warmup: 0.3s}
              - redis: {connections: 4, duration: 1s, warmup: 0.3s}
              - mysql: {threads: 2, table-size: 1000, duration: 2s, warmup: 0.5s}
              - fio: {rw: randread, bs: 4KiB, iodepth: 16, size: 16MiB, duration: 1s, warmup: 0.3s}

            """.write(toFile: plan, atomically: true, encoding: .utf8)
            let out = lab.scratch.path + "/run"
            let run = try ChildProcess(
                Binaries.coordinator,
                [
                    "run", plan, "--sut", lab.sut.endpoint.description, "--peer", lab.peer.endpoint.description,
                    "--token-file", lab.tokenPath, "--out", out,
                ], scratch: lab.scratch, label: "kvm-run")
            #expect(run.wait(seconds: 400) == 0, "\(run.stderr)")
            let rows = try ModesTests.summaries(out)
            // fio and MySQL ran on the guest's qcow2 disk (a file in the storage folder, gone afterwards).
            for workload in ["fio", "mysql"] {
                #expect(
                    ModesTests.value(
                        rows, workload == "fio" ? "iops" : "transactions_per_sec",
                        [
                            "workload": workload, "storage": "disk", "disk": "qcow2,cache=none,aio=threads",
                        ]) != nil, "\(workload) on the qcow2 disk")
            }
            #expect(
                FioRunTests.contents(storage).isEmpty, "left in the storage folder: \(FioRunTests.contents(storage))")
            for (workload, metric) in [
                ("rr", "transactions_per_sec"), ("stream", "goodput_gbps"), ("redis", "ops_per_sec"),
                ("mysql", "transactions_per_sec"), ("fio", "iops"),
            ] {
                #expect(
                    (ModesTests.value(rows, metric, ["workload": workload, "mode": "kvm"]) ?? 0) > 0, "\(workload)")
                // The host agent meters the machine and breaks it down; the guest reports its own view.
                for metric in ["host_cpu_seconds", "host_cpu_vcpu_seconds", "host_cpu_qemu_other_seconds"] {
                    #expect(
                        ModesTests.value(rows, metric, ["workload": workload, "role": "host"]) != nil,
                        "\(workload) \(metric)")
                }
                #expect((ModesTests.value(rows, "host_cpu_vcpu_seconds", ["workload": workload]) ?? 0) > 0)
                #expect(ModesTests.value(rows, "sut_cpu_seconds", ["workload": workload, "host": "sut-kvm"]) != nil)
            }
            // Every sample of the guest's steps says it was emulated, and so do the tables.
            let all = try jsonLines(out + "/samples.jsonl")
            #expect(all.allSatisfy { ($0["labels"] as? [String: String])?["accel"] == "tcg" })
            #expect(run.stdout.contains("emulated results are not performance results"), "\(run.stdout)")
            let info =
                try jsonObject(out + "/run.json")
            let setup = try #require((info["modes"] as? [String: Any])?["kvm"] as? [String: Any])
            #expect((setup["qemu"] as? String)?.hasPrefix("qemu-system-x86_64 ") == true)
            #expect(setup["accel"] as? String == "tcg")
            let vm = try #require(setup["vm"] as? [String: String])
            #expect(vm["vcpu_threads"]?.isEmpty == false && vm["disk"]?.contains("virtio-blk") == true, "\(vm)")
            // The guest's clock is its own: an offset far from the host's, estimated with a bound.
            let guest = try #require((info["agents"] as? [[String: Any]])?.first { $0["name"] as? String == "sut-kvm" })
            let clock = try #require(guest["clock"] as? [String: Any])
            #expect(clock["method"] as? String == "udp-kernel-timestamps")
            #expect((clock["offset_error_ns"] as? Int ?? 0) > 0)
            print("kvm guest clock: offset \(clock["offset_ns"] ?? "-") ns ± \(clock["offset_error_ns"] ?? "-") ns")
            // The merged log stays in true order across the guest's clock.
            let log = try jsonLines(out + "/merged-log.jsonl")
            #expect(log.allSatisfy { $0["t_ns"] is Int }, "a merged-log line without t_ns")
            let inversions = zip(log, log.dropFirst()).filter {
                ($0["t_ns"] as? Int ?? -1) > ($1["t_ns"] as? Int ?? -1)
            }
            #expect(inversions.isEmpty)
            #expect(log.contains { $0["host"] as? String == "sut-kvm" })
            try expectCausalOrder(log, step: "rr-tcp-kvm-r1", runDirectory: out)
            #expect(HostLeftovers.now() == before, "left \(HostLeftovers.now()) (before \(before))")
        }

        @Test func hpccAndXzRunInTunedAndUntunedGuestsAndTheUntunedOneSeesLess() throws {
            guard CPURunTests.installed else {
                Issue.record("hpcc or openmpi-bin is not installed: scripts/install-deps.sh installs them")
                return
            }
            let image = try Self.image()
            let before = HostLeftovers.now()
            let lab = try Lab()
            let plan = lab.scratch.path + "/cpu.yaml"
            // One run, two guests: the tuned one (host passthrough: qemu's max under TCG) and qemu's
            // generic model, each with 2 vCPUs as 1 socket x 2 cores.
            try """
            modes: [kvm]
            repetitions: {min: 1, max: 1}
            vm-image: \(image)
            accel: tcg
            vm-cpus: 2
            vm-topology: 1x2x1
            experiments:
              - hpcc: {n: 300, nb: 50}
              - compress: {threads: 2, level: 1, size: 2MiB}
              - hpcc: {n: 300, nb: 50, vm-cpu-model: default}

            """.write(toFile: plan, atomically: true, encoding: .utf8)
            let out = lab.scratch.path + "/run"
            let run = try ChildProcess(
                Binaries.coordinator,
                ["run", plan, "--sut", lab.sut.endpoint.description, "--token-file", lab.tokenPath, "--out", out],
                scratch: lab.scratch, label: "kvm-cpu")
            #expect(run.wait(seconds: 400) == 0, "\(run.stderr)")
            let rows = try jsonLines(out + "/samples.jsonl").filter { $0["metric"] as? String == "hpl_gflops" }
            func isa(_ model: String) -> VectorISA? {
                rows.first { ($0["labels"] as? [String: String])?["vm_cpu_model"] == model }
                    .flatMap { ($0["labels"] as? [String: String])?["isa"] }.flatMap(VectorISA.init(rawValue:))
            }
            let (tuned, untuned) = (try #require(isa("host")), try #require(isa("default")))
            #expect(untuned == .sse2 && untuned < tuned, "default \(untuned), host \(tuned)")
            #expect(rows.allSatisfy { ($0["labels"] as? [String: String])?["ranks"] == "2" })
            let xz = try jsonLines(out + "/samples.jsonl").first { $0["metric"] as? String == "compress_mb_per_sec" }
            #expect((xz?["value"] as? Double ?? 0) > 0)
            // run.json: one entry per guest, with the CPU model, topology and pinning as applied, and
            // each guest agent's view of its CPUs beside the host's.
            let info = try jsonObject(out + "/run.json")
            let modes = try #require(info["modes"] as? [String: Any])
            // The guest placed second is named by its CPU model (`kvm-cpu-host` or `kvm-cpu-default`).
            #expect(modes.count == 2 && modes.keys.contains { $0.hasPrefix("kvm-cpu-") }, "\(modes.keys)")
            let setups = modes.values.compactMap { ($0 as? [String: Any])?["vm"] as? [String: String] }
            let untunedSetup = try #require(setups.first { $0["cpu_model"] == "default (-cpu qemu64)" }, "\(setups)")
            #expect(setups.contains { $0["cpu_model"] == "host (-cpu max)" })
            #expect(untunedSetup["topology"]?.hasPrefix("1x2x1") == true && untunedSetup["vcpu_pinning"] != nil)
            let agents = try #require(info["agents"] as? [[String: Any]])
            let views = agents.compactMap { ($0["host"] as? [String: Any])?["cpu"] as? [String: Any] }
            #expect(views.count == 3 && views.contains { $0["isa"] as? String == "sse2" }, "\(views)")
            #expect(HostLeftovers.now() == before, "left \(HostLeftovers.now()) (before \(before))")
        }

        /// Starts a 20 s TCG rr step and returns once the guest's step runs.
        static func startLongStep(_ lab: Lab, label: String) throws -> (ChildProcess, String) {
            let out = lab.scratch.path + "/\(label)"
            let run = try lab.rr(
                ["--mode", "kvm", "--vm-image", try image(), "--accel", "tcg", "--duration", "20s", "--warmup", "0"],
                out: out, label: label)
            try expectEventually(seconds: 120, "\(label): the guest's step never started") { stepRuns(out) }
            Thread.sleep(forTimeInterval: 1)
            return (run, out)
        }

        /// Whether run.json in `out` shows a step running (the guest booted and the step began).
        static func stepRuns(_ out: String) -> Bool {
            guard let data = FileManager.default.contents(atPath: out + "/run.json"),
                let info = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let steps = info["steps"] as? [[String: Any]]
            else { return false }
            return steps.last?["status"] as? String == "running"
        }

        @Test func aKilledGuestEndsTheRunNamingItAndEverythingIsRemoved() throws {
            let before = HostLeftovers.now()
            let lab = try Lab()
            let (run, _) = try Self.startLongStep(lab, label: "qemu")
            let qemu = children(of: lab.sut.child.pid, named: "qemu-system-x86")
            #expect(qemu.count == 1, "\(qemu)")
            qemu.forEach { kill($0, SIGKILL) }
            #expect(run.wait(seconds: 30) == 1)
            #expect(run.stderr.contains("sut-kvm"), "\(run.stderr)")
            try expectEventually(seconds: 15, "the killed guest's tap, bridge or folder stayed") {
                HostLeftovers.now() == before
            }
            #expect(lab.sut.child.process.isRunning)
        }

        @Test func aKilledHostAgentTakesQemuAlongAndTheNextStartSweepsTheRest() throws {
            let before = HostLeftovers.now()
            let lab = try Lab()
            let state = lab.scratch.path + "/state"
            let sut = try AgentProcess(
                name: "sut", tokenPath: lab.tokenPath, scratch: lab.scratch, extra: ["--state-dir", state])
            let out = lab.scratch.path + "/host"
            let run = try ChildProcess(
                Binaries.coordinator,
                [
                    "rr", "--sut", sut.endpoint.description, "--peer", lab.peer.endpoint.description, "--token-file",
                    lab.tokenPath, "--mode", "kvm", "--vm-image", try Self.image(), "--accel", "tcg", "--duration",
                    "20s", "--warmup", "0", "--out", out,
                ], scratch: lab.scratch, label: "host")
            try expectEventually(seconds: 120, "the guest's step never started") { Self.stepRuns(out) }
            Thread.sleep(forTimeInterval: 1)
            kill(sut.child.pid, SIGKILL)
            #expect(run.wait(seconds: 20) == 1)
            #expect(run.stderr.contains("agent sut"), "\(run.stderr)")
            // qemu dies with its host agent (parent-death signal); its tap, bridge and folder stay for a sweep.
            try expectEventually(seconds: 10, "qemu outlived its host agent") {
                processes(mentioning: "qemu-system").count == before.qemus.count
            }
            #expect(HostLeftovers.now() != before, "nothing to sweep: the test proves nothing")
            #expect(
                (try? FileManager.default.contentsOfDirectory(atPath: state))?.contains { $0.hasPrefix("vm-") } == true)
            let restarted = try AgentProcess(
                name: "sut2", tokenPath: lab.tokenPath, scratch: lab.scratch, extra: ["--state-dir", state])
            #expect(HostLeftovers.now() == before, "after the sweep: \(HostLeftovers.now()) (before \(before))")
            #expect(
                (try? FileManager.default.contentsOfDirectory(atPath: state))?.contains { $0.hasPrefix("vm-") } == false
            )
            restarted.child.terminate(signal: SIGTERM)
        }

        @Test func aKilledCoordinatorLeavesNothingOnceTheLeaseExpires() throws {
            let before = HostLeftovers.now()
            let lab = try Lab()
            let (run, _) = try Self.startLongStep(lab, label: "coordinator")
            kill(run.pid, SIGKILL)
            try expectEventually(seconds: 20, "the lease did not remove the guest") { HostLeftovers.now() == before }
            #expect(lab.sut.child.process.isRunning)
        }

        /// Runs only where KVM boots the guest (`-accel kvm -cpu host`); elsewhere it is skipped, with
        /// the reason printed, and never counts as passed.
        @Test(.enabled(if: KVMProbe.bootsHere, "KVM cannot boot the guest on this host (see the printed reason)"))
        func underKVMTheGuestRunsWithTheHostsCPU() throws {
            let lab = try Lab()
            let out = lab.scratch.path + "/kvm"
            let run = try lab.rr(
                ["--mode", "kvm", "--vm-image", try Self.image(), "--accel", "kvm", "--duration", "2s"], out: out)
            #expect(run.wait(seconds: 120) == 0, "\(run.stderr)")
            let rows = try ModesTests.summaries(out)
            #expect((ModesTests.value(rows, "transactions_per_sec", ["mode": "kvm", "accel": "kvm"]) ?? 0) > 0)
        }
    }
}

/// Whether `-accel kvm -cpu host` boots the test guest here: tried once, with the reason printed when not.
enum KVMProbe {
    static let bootsHere: Bool = {
        if let why = KVMGuest.kvmUnusable {
            print("kvm test skipped: \(why)")
            return false
        }
        guard let image = try? TestGuestImage.built.get() else {
            print("kvm test skipped: no guest image (\(String(describing: TestGuestImage.built)))")
            return false
        }
        let scratch = Scratch()
        guard
            let qemu = try? ChildProcess(
                "/usr/bin/qemu-system-x86_64",
                [
                    "-accel", "kvm", "-cpu", "host", "-m", "512M", "-nodefaults", "-display", "none", "-no-reboot",
                    "-kernel", image + "/vmlinux", "-initrd", image + "/initramfs.cpio", "-append",
                    "console=ttyS0 quiet panic=-1", "-serial", "file:\(scratch.path)/console.log",
                ], scratch: scratch, label: "kvm-probe")
        else {
            print("kvm test skipped: cannot start qemu-system-x86_64")
            return false
        }
        defer { qemu.terminate(signal: SIGKILL) }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let console = (try? String(contentsOfFile: scratch.path + "/console.log", encoding: .utf8)) ?? ""
            if console.contains(VMImageBuilder.initMarker) { return true }
            if let status = qemu.wait(seconds: 0.1) {
                print(
                    "kvm test skipped: qemu -accel kvm -cpu host exited with \(status): \(qemu.stderr.split(separator: "\n").suffix(2).joined(separator: " | "))"
                )
                return false
            }
        }
        print("kvm test skipped: the guest did not reach its init under KVM within 20 s")
        return false
    }()
}
