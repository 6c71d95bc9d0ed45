import Foundation
import Shared
import TestSupport
import Testing

@testable import Agent

#if canImport(Glibc)
    import Glibc
#endif

/// What a deployment mode may leave on this host: lockstep's namespaces, links (bridges, veths,
/// taps) and nft tables, qemu processes, and the host's forwarding switch. Compared before and
/// after every mode test.
struct HostLeftovers: Equatable, CustomStringConvertible {
    var namespaces: [String]
    var links: [String]
    var tables: [String]
    var ipForward: String
    var qemus: [Int32] = processes(mentioning: "qemu-system")

    static func now() -> HostLeftovers {
        let lines = DockerEngine.lines
        return HostLeftovers(
            namespaces: lines("/usr/sbin/ip", ["netns", "list"]).filter {
                $0.hasPrefix("lockstep-") && !$0.contains("-ctl")
            }
            .filter { !$0.contains("-sut") && !$0.contains("-peer") },
            links: lines("/usr/sbin/ip", ["-o", "link"]).filter {
                $0.contains("lsbr") || $0.contains("lsvh") || $0.contains("lstp")
            },
            tables: lines("/usr/sbin/nft", ["list", "tables"]).filter { $0.contains("lockstep_") },
            ipForward: (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_forward", encoding: .utf8)) ?? "")
    }

    var description: String {
        "netns \(namespaces), links \(links.count), tables \(tables), ip_forward \(ipForward), qemu \(qemus)"
    }
}

extension Integration {
    /// The deployment modes with a guest agent: netns-nat for every workload on loopback, and the
    /// teardown on every way a session ends. Needs root (CI runs as root).
    @Suite struct ModesTests {
        static func summaries(_ dir: String) throws -> [[String: Any]] {
            try jsonLines(dir + "/samples.jsonl").filter {
                ($0["labels"] as? [String: String])?["kind"] != "interval"
            }
        }

        static func value(_ rows: [[String: Any]], _ metric: String, _ labels: [String: String]) -> Double? {
            rows.first { row in
                guard row["metric"] as? String == metric, let l = row["labels"] as? [String: String] else {
                    return false
                }
                return labels.allSatisfy { l[$0.key] == $0.value }
            }?["value"] as? Double
        }

        @Test func netnsNATRunsEveryWorkloadNextToNativeAndLeavesNothing() throws {
            let before = HostLeftovers.now()
            let lab = try Lab()
            let runs: [(String, [String], String)] = [
                ("rr", ["--protocol", "tcp,udp"], "transactions_per_sec"),
                ("stream", ["--direction", "both"], "goodput_gbps"),
                ("redis", ["--connections", "4"], "ops_per_sec"),
                ("mysql", ["--threads", "2", "--table-size", "2000"], "transactions_per_sec"),
            ]
            for (workload, extra, metric) in runs {
                let out = lab.scratch.path + "/\(workload)"
                let run = try lab.command(
                    workload, extra + ["--mode", "native,netns-nat", "--duration", "1s", "--warmup", "0.3s"], out: out,
                    label: workload)
                #expect(run.wait(seconds: 150) == 0, "\(workload): \(run.stderr)")
                let rows = try Self.summaries(out)
                for mode in ["native", "netns-nat"] {
                    #expect((Self.value(rows, metric, ["mode": mode]) ?? 0) > 0, "\(workload) \(mode) \(metric)")
                }
                // The host agent meters the machine in the guest's steps; the guest reports its own view.
                #expect(Self.value(rows, "host_cpu_seconds", ["mode": "netns-nat", "role": "host"]) != nil)
                #expect(Self.value(rows, "sut_cpu_seconds", ["mode": "netns-nat", "host": "sut-netns-nat"]) != nil)
                // This host's own traffic took the output hook's DNAT, none came in from elsewhere.
                #expect((Self.value(rows, "nat_output_packets", ["mode": "netns-nat"]) ?? 0) >= 1, "\(workload)")
                #expect(Self.value(rows, "nat_prerouting_packets", ["mode": "netns-nat"]) == 0)
                #expect(
                    run.stdout.contains("mode comparison") && run.stdout.contains("netns-nat/native"), "\(run.stdout)")
                let info =
                    try jsonObject(out + "/run.json")
                let setup = try #require((info["modes"] as? [String: Any])?["netns-nat"] as? [String: Any])
                #expect((setup["rules"] as? String)?.contains("dnat to 198.18.") == true)
                #expect((setup["commands"] as? [String])?.first?.hasPrefix("ip netns add lockstep-") == true)
                let guest = (info["agents"] as? [[String: Any]])?.first { $0["name"] as? String == "sut-netns-nat" }
                // Its clock probes reach it through the NAT like its control port: kernel-stamped probes,
                // a sub-microsecond bound here (the control channel's was about 100 us).
                let clock = try #require(guest?["clock"] as? [String: Any], "\(workload): no guest clock")
                #expect(clock["method"] as? String == "udp-kernel-timestamps", "\(workload): \(clock)")
                // Removed by the time the command returned.
                #expect(HostLeftovers.now() == before, "\(workload) left \(HostLeftovers.now()) (before \(before))")
            }
            // The UDP path through the NAT answers like the direct one, and costs something.
            let rr = try Self.summaries(lab.scratch.path + "/rr")
            #expect((Self.value(rr, "lost_transactions", ["mode": "netns-nat", "protocol": "udp"]) ?? 1) < 100)
            // Through the NAT both flights are resolved (each far above the bound of two probed clocks).
            for proto in ["tcp", "udp"] {
                let bound = try #require(Self.value(rr, "owd_bound_us", ["mode": "netns-nat", "protocol": proto]))
                let request = Self.value(rr, "owd_request_mean_us", ["mode": "netns-nat", "protocol": proto])
                #expect(bound < 10 && request != nil, "\(proto): bound \(bound) us, request \(request ?? -1) us")
            }
            let mysql = try Self.summaries(lab.scratch.path + "/mysql")
            #expect(Self.value(mysql, "mysql_rows_after", ["mode": "netns-nat"]) == 2000)
        }

        @Test func netnsNATOverTheNamespaceLabsTestLinkTakesThePreroutingPath() throws {
            let lab = try NamespaceLab(prefix: "lsm", startAgents: true)
            for (workload, extra, metric) in [
                ("rr", ["--protocol", "tcp,udp"], "transactions_per_sec"),
                ("stream", ["--direction", "both"], "goodput_gbps"),
                ("redis", ["--connections", "4"], "ops_per_sec"),
                ("mysql", ["--threads", "2", "--table-size", "1000"], "transactions_per_sec"),
            ] {
                let out = lab.scratch.path + "/\(workload)"
                let run = try lab.coordinator(
                    workload,
                    extra + [
                        "--mode", "native,netns-nat", "--guest-ports", "17470", "--duration", "1s", "--warmup", "0.3s",
                    ], out: out)
                #expect(run.wait(seconds: 150) == 0, "\(workload): \(run.stderr)")
                let rows = try Self.summaries(out)
                for mode in ["native", "netns-nat"] {
                    #expect((Self.value(rows, metric, ["mode": mode]) ?? 0) > 0, "\(workload) \(mode)")
                }
                // The peer's connections came over the test link: DNAT in prerouting.
                #expect((Self.value(rows, "nat_prerouting_packets", ["mode": "netns-nat"]) ?? 0) >= 1, "\(workload)")
                #expect(Self.value(rows, "nat_output_packets", ["mode": "netns-nat"]) == 0, "\(workload)")
                // The guest's namespace lives under the lab's SUT, and is gone with the run.
                #expect(!lab.processes(in: "sut").contains { $0.contains("sut-netns-nat") })
            }
        }

        /// A `place` that comes after its session ended (the lease ran out while it waited: chaos.sh
        /// found a namespace, bridge and nft table nobody removed) is refused and makes nothing.
        @Test func aPlacementAfterTheSessionEndedIsRefusedAndMakesNothing() throws {
            let before = HostLeftovers.now()
            let scratch = Scratch()
            let token = try scratch.token().path
            let guests = SessionGuests(
                launch: GuestLaunch(
                    agentPath: Binaries.agent, tokenPath: token, hostName: "sut", leaseSeconds: 3,
                    stateDirectory: scratch.path))
            #expect(guests.end().isEmpty)
            #expect {
                _ = try guests.place(Place(mode: .netnsNAT, portBase: try freePort()))
            } throws: { error in
                "\(error)".contains("the session ended")
            }
            #expect(HostLeftovers.now() == before, "\(HostLeftovers.now()) (before \(before))")
        }

        @Test func aKilledHostAgentsLeftoversAreSweptAtTheNextStart() throws {
            let before = HostLeftovers.now()
            let lab = try Lab()
            let out = lab.scratch.path + "/run"
            let run = try lab.rr(["--mode", "netns-nat", "--duration", "20s", "--warmup", "0"], out: out)
            try expectEventually(seconds: 30, "the guest step never started") {
                (try? String(contentsOfFile: out + "/run.json", encoding: .utf8))?.contains("\"running\"") == true
                    && !HostLeftovers.now().namespaces.isEmpty
            }
            Thread.sleep(forTimeInterval: 1)
            kill(lab.sut.child.pid, SIGKILL)
            #expect(run.wait(seconds: 15) == 1)
            #expect(run.stderr.contains("agent sut"), "\(run.stderr)")
            // The guest agent dies with its host agent (parent-death signal); what it made stays until a sweep.
            try expectEventually(seconds: 5, "the guest agent outlived its host agent") {
                processes(mentioning: "sut-netns-nat").isEmpty
            }
            #expect(HostLeftovers.now() != before, "nothing to sweep: the test proves nothing")
            let restarted = try AgentProcess(name: "sut2", tokenPath: lab.tokenPath, scratch: lab.scratch)
            #expect(HostLeftovers.now() == before, "after the sweep: \(HostLeftovers.now()) (before \(before))")
            restarted.child.terminate(signal: SIGTERM)
        }

        @Test func aKilledGuestAgentEndsTheRunNamingItAndEverythingIsRemoved() throws {
            let before = HostLeftovers.now()
            let lab = try Lab()
            let out = lab.scratch.path + "/run"
            let run = try lab.rr(["--mode", "netns-nat", "--duration", "20s", "--warmup", "0"], out: out)
            var guest: Int32?
            try expectEventually(seconds: 30, "no guest agent") {
                guest = children(of: lab.sut.child.pid, named: "lockstep-agent").first
                return guest != nil
                    && (try? String(contentsOfFile: out + "/run.json", encoding: .utf8))?.contains("\"running\"")
                        == true
            }
            Thread.sleep(forTimeInterval: 1)
            kill(guest!, SIGKILL)
            #expect(run.wait(seconds: 15) == 1)
            #expect(run.stderr.contains("sut-netns-nat"), "\(run.stderr)")
            try expectEventually(seconds: 10, "the guest's namespace, links or table outlived the run") {
                HostLeftovers.now() == before
            }
            #expect(lab.sut.child.process.isRunning)
        }

        @Test func aKilledCoordinatorLeavesNothingOnceTheLeaseExpiresAndTheRunResumesAcrossModes() throws {
            let before = HostLeftovers.now()
            let lab = try Lab()
            let out = lab.scratch.path + "/run"
            let arguments = [
                "--protocol", "tcp,udp", "--mode", "native,netns-nat", "--duration", "1.5s", "--warmup", "0",
            ]
            let first = try lab.rr(arguments, out: out, label: "first")
            try expectEventually(seconds: 40, "the second step never started") {
                let text = (try? String(contentsOfFile: out + "/run.json", encoding: .utf8)) ?? ""
                return text.contains("rr-tcp-netns-nat-2") && text.contains("\"running\"")
            }
            Thread.sleep(forTimeInterval: 0.5)
            kill(first.pid, SIGKILL)
            _ = first.wait(seconds: 5)
            try expectEventually(seconds: 10, "the lease did not remove the guest") { HostLeftovers.now() == before }
            let resumed = try lab.resume(arguments, dir: out)
            #expect(resumed.wait(seconds: 90) == 0, "\(resumed.stderr)")
            let steps = Set(try Self.summaries(out).compactMap { ($0["labels"] as? [String: String])?["step"] })
            #expect(steps == ["rr-tcp-native-1", "rr-tcp-netns-nat-2", "rr-udp-native-3", "rr-udp-netns-nat-4"])
            #expect(HostLeftovers.now() == before)
        }

        @Test func aModeWhosePrerequisitesAreMissingIsOneLineAndStartsNothing() throws {
            let scratch = Scratch()
            let token = try scratch.token().path
            let sut = try AgentProcess(
                name: "sut", tokenPath: token, scratch: scratch,
                prefix: ["/usr/bin/env", "DOCKER_HOST=unix://\(scratch.path)/no-engine.sock"])
            let peer = try AgentProcess(name: "peer", tokenPath: token, scratch: scratch)
            let out = scratch.path + "/run"
            let run = try ChildProcess(
                Binaries.coordinator,
                [
                    "rr", "--sut", sut.endpoint.description, "--peer", peer.endpoint.description, "--token-file", token,
                    "--mode", "native,docker-nat", "--duration", "1s", "--out", out,
                ], scratch: scratch, label: "prereq")
            #expect(run.wait(seconds: 30) == 1)
            let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("lockstep: error:") }
            #expect(errors.count == 1, "\(run.stderr)")
            #expect(errors.first?.contains("mode-prerequisites") == true)
            #expect(errors.first?.contains("docker") == true, "\(run.stderr)")
            // Nothing ran: no step started, not even the native one.
            let info =
                try jsonObject(out + "/run.json")
            #expect((info["steps"] as? [Any])?.isEmpty == true, "\(info)")
            #expect(!FileManager.default.fileExists(atPath: out + "/samples.jsonl"))
        }
    }
}

extension Integration {
    /// docker-host and docker-nat with a real dockerd started for the test, the image built offline
    /// by `lockstep-agent image build`, every workload in both modes, nothing left afterwards.
    @Suite struct DockerModesTests {
        /// A dockerd of the test's own with the agent's image built into it, a SUT agent that places
        /// its containers there, and a peer agent.
        struct Rig {
            let engine: DockerEngine
            let scratch = Scratch()
            let tag: String
            let token: String
            let sut: AgentProcess
            let peer: AgentProcess

            init() throws {
                let engine = try DockerEngine()
                do {
                    tag = try DockerModesTests.buildImage(engine, scratch)
                    token = try scratch.token().path
                    sut = try AgentProcess(
                        name: "sut", tokenPath: token, scratch: scratch,
                        prefix: ["/usr/bin/env", "DOCKER_HOST=\(engine.host)"])
                    peer = try AgentProcess(name: "peer", tokenPath: token, scratch: scratch)
                } catch {
                    engine.stop()
                    throw error
                }
                self.engine = engine
            }

            /// Both agents ended, then the engine.
            func stop() {
                sut.child.terminate(signal: SIGTERM)
                peer.child.terminate(signal: SIGTERM)
                engine.stop()
            }
        }

        /// `lockstep-agent image build` into `engine`; the tag.
        static func buildImage(_ engine: DockerEngine, _ scratch: Scratch) throws -> String {
            let tag = "lockstep-agent:test-\(getpid())"
            let build = try ChildProcess(
                "/usr/bin/env", ["DOCKER_HOST=\(engine.host)", Binaries.agent, "image", "build", "--tag", tag],
                scratch: scratch, label: "image")
            #expect(build.wait(seconds: 180) == 0, "\(build.stderr)")
            return tag
        }

        @Test func everyWorkloadRunsInDockerHostAndDockerNATAndNoContainerIsLeft() throws {
            guard DockerEngine.installed else {
                Issue.record("docker.io is not installed: scripts/install-deps.sh installs it")
                return
            }
            let rig = try Rig()
            defer { rig.stop() }
            let (engine, scratch, tag, token, sut, peer) = (
                rig.engine, rig.scratch, rig.tag, rig.token, rig.sut, rig.peer
            )
            let before = HostLeftovers.now()
            for (workload, extra, metric) in [
                ("rr", ["--protocol", "tcp,udp"], "transactions_per_sec"),
                ("stream", ["--direction", "sut-tx"], "goodput_gbps"),
                ("redis", ["--connections", "4"], "ops_per_sec"),
                ("mysql", ["--threads", "2", "--table-size", "1000"], "transactions_per_sec"),
            ] {
                let out = scratch.path + "/\(workload)"
                let run = try ChildProcess(
                    Binaries.coordinator,
                    [
                        workload, "--sut", sut.endpoint.description, "--peer", peer.endpoint.description,
                        "--token-file", token, "--mode", "docker-host,docker-nat", "--image", tag, "--duration", "1s",
                        "--warmup", "0.3s", "--out", out,
                    ] + extra, scratch: scratch, label: workload)
                #expect(run.wait(seconds: 180) == 0, "\(workload): \(run.stderr)")
                let rows = try ModesTests.summaries(out)
                for mode in ["docker-host", "docker-nat"] {
                    #expect((ModesTests.value(rows, metric, ["mode": mode]) ?? 0) > 0, "\(workload) \(mode) \(metric)")
                    #expect(ModesTests.value(rows, "host_cpu_seconds", ["mode": mode, "role": "host"]) != nil)
                }
                let info =
                    try jsonObject(out + "/run.json")
                let nat = try #require((info["modes"] as? [String: Any])?["docker-nat"] as? [String: Any])
                #expect((nat["containerID"] as? String)?.isEmpty == false)
                #expect((nat["imageID"] as? String)?.hasPrefix("sha256:") == true)
                #expect((nat["commands"] as? [String])?.first?.contains("-p") == true)
                #expect(engine.containers().isEmpty, "\(workload) left containers: \(engine.containers())")
                #expect(HostLeftovers.now() == before)
            }
        }

        @Test func hpccAndXzRunInADockerHostContainerAndSeeItsQuota() throws {
            guard DockerEngine.installed, CPURunTests.installed else {
                Issue.record("docker.io or hpcc is not installed: scripts/install-deps.sh installs them")
                return
            }
            let rig = try Rig()
            defer { rig.stop() }
            let before = HostLeftovers.now()
            for (workload, extra, metric) in [
                ("hpcc", ["--n", "400", "--nb", "40"], "hpl_gflops"),
                ("compress", ["--threads", "2", "--level", "1", "--size", "4MiB"], "compress_mb_per_sec"),
            ] {
                let out = rig.scratch.path + "/\(workload)"
                let run = try ChildProcess(
                    Binaries.coordinator,
                    [
                        workload, "--sut", rig.sut.endpoint.description, "--token-file", rig.token, "--mode",
                        "native,docker-host", "--image", rig.tag, "--container-cpus", "1", "--out", out,
                    ] + extra, scratch: rig.scratch, label: workload)
                #expect(run.wait(seconds: 180) == 0, "\(workload): \(run.stderr)")
                let rows = try ModesTests.summaries(out)
                for mode in ["native", "docker-host"] {
                    #expect((ModesTests.value(rows, metric, ["mode": mode]) ?? 0) > 0, "\(workload) \(mode)")
                }
                let info = try jsonObject(out + "/run.json")
                let setup = try #require((info["modes"] as? [String: Any])?["docker-host"] as? [String: Any])
                #expect(setup["cpuQuota"] as? String == "1.0", "\(setup)")
                #expect((setup["commands"] as? [String])?.first?.contains("--shm-size") == true)
                #expect(rig.engine.containers().isEmpty, "\(workload) left containers: \(rig.engine.containers())")
                #expect(HostLeftovers.now() == before)
            }
            // hpcc's ranks follow the container's quota: one rank for one CPU's worth.
            let ranks = try jsonLines(rig.scratch.path + "/hpcc/samples.jsonl").compactMap {
                ($0["labels"] as? [String: String]).flatMap { $0["mode"] == "docker-host" ? $0["ranks"] : nil }
            }
            #expect(!ranks.isEmpty && ranks.allSatisfy { $0 == "1" }, "\(ranks)")
        }

        @Test func fioAndMySQLRunOnAVolumeAndOnTheContainersLayerAndNothingIsLeft() throws {
            guard DockerEngine.installed, FioRunTests.installed else {
                Issue.record("docker.io or fio is not installed: scripts/install-deps.sh installs them")
                return
            }
            let rig = try Rig()
            defer { rig.stop() }
            let (engine, scratch, tag, token, sut, peer) = (
                rig.engine, rig.scratch, rig.tag, rig.token, rig.sut, rig.peer
            )
            let storage = scratch.path + "/storage"
            try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
            let before = HostLeftovers.now()
            for placement in ["volume", "layered"] {
                let out = scratch.path + "/fio-\(placement)"
                let fio = try FioRunTests.fio(
                    sut, token: token, storage: storage, out: out, scratch: scratch,
                    [
                        "--mode", "docker-host", "--image", tag, "--storage", placement, "--duration", "1s", "--warmup",
                        "0.3s",
                    ],
                    label: "fio-\(placement)")
                #expect(fio.wait(seconds: 180) == 0, "\(placement): \(fio.stderr)")
                let rows = try ModesTests.summaries(out)
                #expect(
                    (ModesTests.value(rows, "iops", ["storage": placement, "mode": "docker-host", "direction": "read"])
                        ?? 0)
                        > 0, "fio on \(placement)")
                #expect(FioRunTests.contents(storage).isEmpty, "\(placement) left: \(FioRunTests.contents(storage))")
            }
            // MySQL on the container's own layer (the paper's AUFS case), through --mysql-storage's spelling.
            let out = scratch.path + "/mysql-layered"
            let mysql = try ChildProcess(
                Binaries.coordinator,
                [
                    "mysql", "--sut", sut.endpoint.description, "--peer", peer.endpoint.description, "--token-file",
                    token,
                    "--mode", "docker-host", "--image", tag, "--mysql-storage", "layered", "--threads", "2",
                    "--table-size", "1000", "--duration", "1s", "--warmup", "0.3s", "--out", out,
                ], scratch: scratch, label: "mysql-layered")
            #expect(mysql.wait(seconds: 180) == 0, "\(mysql.stderr)")
            #expect(
                (ModesTests.value(try ModesTests.summaries(out), "transactions_per_sec", ["storage": "layered"]) ?? 0)
                    > 0)
            #expect(engine.containers().isEmpty)
            #expect(HostLeftovers.now() == before)
        }

        /// A container the engine lost (dockerd killed while it started it): the teardown reads the
        /// ID `docker run --cidfile` wrote and ends what is left of it, but only once the engine
        /// answers that it has no such container; while the engine is down it keeps the record and
        /// leaves the processes alone. The orphaned shim is a process posing as one.
        @Test func whatALostContainerLeftIsEndedByItsIDOnceTheEngineAnswers() throws {
            guard DockerEngine.installed else {
                Issue.record("docker.io is not installed: scripts/install-deps.sh installs it")
                return
            }
            let engine = try DockerEngine()
            defer { engine.stop() }
            let scratch = Scratch()
            let containerID = (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: 1...UInt64.max)) }
                .joined()
            let shim = try ChildProcess(
                "/bin/bash",
                [
                    "-c",
                    "exec -a containerd-shim-runc-v2 /usr/bin/python3 -c 'import time; time.sleep(60)' -id \(containerID)",
                ],
                scratch: scratch, label: "shim")
            defer { shim.terminate(signal: SIGKILL) }
            for _ in 0..<200 where !ContainerOrphans.pids(of: containerID).contains(shim.pid) { usleep(10_000) }
            #expect(ContainerOrphans.pids(of: containerID) == [shim.pid])

            let journal = PlacementJournal(directory: scratch.path + "/state")
            var record = GuestRecord(
                id: GuestRecord.newID(), mode: .dockerNAT, ownerPID: getpid(),
                ownerStart: GuestRecord.startTime(getpid()))
            record.container = "lockstep-\(record.id)"
            record.cidFile = journal.directory + "/lockstep-\(record.id).cid"
            try (containerID + "\n").write(toFile: record.cidFile!, atomically: true, encoding: .utf8)
            record.dockerHost = "unix://\(scratch.path)/no-engine.sock"
            journal.write(record)

            // The engine is down: nothing is known, nothing is killed, the record and its ID stay.
            let down = journal.remove(record)
            #expect(down.count == 1, "\(down)")
            #expect(shim.wait(seconds: 0.2) == nil, "the shim was killed while the engine was down")
            #expect(FileManager.default.fileExists(atPath: record.cidFile!))

            // The engine answers (it has no such container): the shim is ended, the ID file removed.
            record.dockerHost = engine.host
            let up = journal.remove(record)
            #expect(up.isEmpty, "\(up)")
            #expect(shim.wait(seconds: 5) != nil, "the lost container's shim is still running")
            #expect(!FileManager.default.fileExists(atPath: record.cidFile!))
            #expect(journal.records().isEmpty)
        }

        @Test func aKilledGuestHostAgentOrCoordinatorLeavesNoContainer() throws {
            guard DockerEngine.installed else {
                Issue.record("docker.io is not installed: scripts/install-deps.sh installs it")
                return
            }
            let engine = try DockerEngine()
            defer { engine.stop() }
            let scratch = Scratch()
            let tag = try Self.buildImage(engine, scratch)
            let token = try scratch.token().path
            let env = ["/usr/bin/env", "DOCKER_HOST=\(engine.host)"]
            var sut = try AgentProcess(name: "sut", tokenPath: token, scratch: scratch, prefix: env)
            let peer = try AgentProcess(name: "peer", tokenPath: token, scratch: scratch)
            func start(_ label: String) throws -> (ChildProcess, String) {
                let out = scratch.path + "/\(label)"
                let run = try ChildProcess(
                    Binaries.coordinator,
                    [
                        "rr", "--sut", sut.endpoint.description, "--peer", peer.endpoint.description, "--token-file",
                        token, "--mode", "docker-nat", "--image", tag, "--duration", "20s", "--warmup", "0", "--out",
                        out,
                    ], scratch: scratch, label: label)
                try expectEventually(seconds: 60, "\(label): the container step never started") {
                    !engine.containers().isEmpty
                        && (try? String(contentsOfFile: out + "/run.json", encoding: .utf8))?.contains("\"running\"")
                            == true
                }
                Thread.sleep(forTimeInterval: 1)
                return (run, out)
            }
            // The guest: its container is killed mid-step.
            var (run, _) = try start("guest")
            _ = DockerEngine.lines("/usr/bin/docker", ["-H", engine.host, "kill", engine.containers()[0]])
            #expect(run.wait(seconds: 20) == 1)
            #expect(run.stderr.contains("sut-docker-nat"), "\(run.stderr)")
            try expectEventually(seconds: 15, "the killed guest's container stayed") { engine.containers().isEmpty }
            // The coordinator: the host agent's lease ends the session and removes the container.
            (run, _) = try start("coordinator")
            kill(run.pid, SIGKILL)
            try expectEventually(seconds: 15, "the lease did not remove the container") { engine.containers().isEmpty }
            // The host agent: its container outlives it, and the next host agent's sweep removes it.
            (run, _) = try start("host")
            kill(sut.child.pid, SIGKILL)
            #expect(run.wait(seconds: 20) == 1)
            #expect(run.stderr.contains("agent sut"), "\(run.stderr)")
            #expect(!engine.containers().isEmpty, "nothing to sweep: the test proves nothing")
            sut = try AgentProcess(name: "sut", tokenPath: token, scratch: scratch, prefix: env)
            try expectEventually(seconds: 15, "the sweep left the container") { engine.containers().isEmpty }
            sut.child.terminate(signal: SIGTERM)
            peer.child.terminate(signal: SIGTERM)
        }
    }
}
