import ArgumentParser
import Foundation
import Shared

/// A duration argument: `10s`, `500ms`, `250us`, `2m`, or plain seconds (`1.5`).
struct DurationArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
    var nanoseconds: Int64

    init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    init?(argument: String) {
        let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("ns", 1), ("s", 1e9), ("m", 60e9)]
        let text = argument.trimmingCharacters(in: .whitespaces)
        // A length past Int64 nanoseconds (292 years) is no duration (it trapped: found by the `plan`
        // fuzz target).
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let v = Double(text.dropLast(suffix.count)), let ns = Int64(exactly: (v * scale).rounded(.towardZero))
            else { return nil }
            nanoseconds = ns
            return
        }
        guard let v = Double(text), let ns = Int64(exactly: (v * 1e9).rounded(.towardZero)) else { return nil }
        nanoseconds = ns
    }

    var description: String { "\(Double(nanoseconds) / 1e9)s" }
}

extension Endpoint: ExpressibleByArgument {
    package init?(argument: String) { self.init(parsing: argument) }
}

extension RRProtocol: ExpressibleByArgument {}

/// A comma-separated list of typed values: `--connections 1,4,16`, `--protocol tcp,udp`.
struct CommaList<Element: ExpressibleByArgument & Sendable>: ExpressibleByArgument, Sendable, CustomStringConvertible {
    var values: [Element]

    init(_ values: [Element]) { self.values = values }

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard !parts.isEmpty, !parts.contains(where: \.isEmpty) else { return nil }
        var values: [Element] = []
        for part in parts {
            guard let value = Element(argument: part) ?? Element(argument: part.lowercased()) else { return nil }
            values.append(value)
        }
        self.values = values
    }

    var description: String {
        values.map { ($0 as? any RawRepresentable<String>)?.rawValue ?? "\($0)" }.joined(separator: ",")
    }

    static var defaultCompletionKind: CompletionKind { Element.defaultCompletionKind }
}

/// A CPU list as taskset and cpuset take it: `0`, `0,2`, `1-3`, `0,4-7`.
struct CPUList: ExpressibleByArgument, Sendable, CustomStringConvertible {
    var cpus: [Int]

    init(_ cpus: [Int]) { self.cpus = cpus }

    init?(argument: String) {
        var cpus: [Int] = []
        for part in argument.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map {
                Int($0.trimmingCharacters(in: .whitespaces))
            }
            guard (1...2).contains(bounds.count), let low = bounds.first!, let high = bounds.last!, low >= 0,
                low <= high, high < 1024
            else { return nil }
            cpus += Array(low...high)
        }
        guard !cpus.isEmpty else { return nil }
        self.cpus = Array(Set(cpus)).sorted()
    }

    var description: String { cpus.map(String.init).joined(separator: ",") }
}

extension DeploymentMode: ExpressibleByArgument {}
extension ContainerStorage: ExpressibleByArgument {}
extension DiskFormat: ExpressibleByArgument {}
extension DiskCache: ExpressibleByArgument {}
extension DiskAIO: ExpressibleByArgument {}
extension Accelerator: ExpressibleByArgument {}

/// Where every workload command's steps run: the deployment modes of the SUT's server side and the
/// CPUs each side is pinned to (sched_setaffinity), recorded in run.json with every step.
struct PlacementOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Deployment modes of the SUT's server side, comma-separated: native, netns-nat, docker-host, docker-nat, kvm.",
            discussion: "Each mode runs as its own step for every point, in the order given."))
    var mode: CommaList<DeploymentMode> = CommaList([.native])

    @Option(help: "Image of the container modes (default: lockstep-agent:VERSION, from `lockstep-agent image build`).")
    var image: String?

    @Option(
        help: ArgumentHelp(
            "Container modes: the SUT's data (fio's file, MySQL's tables) on a volume or in the container's own layered file system.",
            discussion:
                "volume: a folder under --storage-dir bind-mounted into the container; layered: the container's overlay. native and netns-nat keep it in a folder under --storage-dir; kvm on its virtio disk."
        ))
    var storage: ContainerStorage?

    @Option(help: "Another spelling of --storage (volume or layered).")
    var mysqlStorage: ContainerStorage?

    @Option(
        help:
            "The SUT host's folder for the SUT's data (native and netns-nat: a folder under it; containers: the volume; kvm: the disk file); default: the host agent's state folder."
    )
    var storageDir: String?

    @Option(
        help:
            "First of the five ports a guest binds in its namespace or container (control, RR, bulk, Redis, MySQL).")
    var guestPorts: Int = GuestPorts.defaultBase

    @Option(
        help:
            "CPUs the SUT's server side is pinned to (responder, stream endpoint, redis-server, mariadbd), e.g. 0 or 0,2-3."
    )
    var sutCpus: CPUList?

    @Option(help: "CPUs the peer's load threads are pinned to, e.g. 1 or 1-3.")
    var peerCpus: CPUList?

    @Option(help: "kvm: the guest image folder on the SUT host (default: the host agent's state folder's vm).")
    var vmImage: String?

    @Option(
        help:
            "kvm: the guest's vCPUs (each pinned to one of --sut-cpus in turn, when given); default: --vm-topology's, else 1."
    )
    var vmCpus: Int?

    @Option(help: "kvm: the guest's memory, e.g. 2GiB or 1536MiB.")
    var vmMemory: SizeArgument = SizeArgument(bytes: 2 << 30)

    @Option(help: "kvm: the accelerator: auto (KVM where it boots the guest, else TCG with a warning), kvm, tcg.")
    var accel: Accelerator = .auto

    @Option(
        help:
            "kvm: the file behind the guest's virtio disk (MySQL's data); default: a sparse file the host agent makes.")
    var vmDisk: String?

    @Option(help: "kvm: the size of a disk the host agent makes, GiB.")
    var vmDiskSize: Int = 8

    @Option(help: "kvm: the format of a disk file the host agent makes: raw or qcow2 (needs qemu-img).")
    var vmDiskFormat: DiskFormat = .raw

    @Option(
        help: "kvm: the disk's host cache: none (O_DIRECT), writeback, writethrough (default: none where it works).")
    var vmDiskCache: DiskCache?

    @Option(help: "kvm: the disk's I/O backend: native (Linux AIO, with cache none), io_uring, threads.")
    var vmDiskAio: DiskAIO = .threads

    @Option(
        help:
            "kvm: the CPU model the guest sees: host (passthrough; qemu's max under TCG) or default (qemu64: SSE2, no AVX)."
    )
    var vmCpuModel: VMCPUModel?

    @Option(help: "kvm: the guest's topology SOCKETSxCORESxTHREADS (its product is --vm-cpus), e.g. 1x2x1.")
    var vmTopology: VMTopology?

    @Option(help: "Container modes: a CPU quota in CPUs (docker run --cpus), e.g. 1.5.")
    var containerCpus: Double?

    @Flag(help: "kvm: back the guest's memory with hugepages (/dev/hugepages, preallocated).")
    var vmHugepages = false

    @Option(
        help: "kvm: an existing bridge holding the SUT's test-network interface; the guest joins it with --vm-address.")
    var vmBridge: String?

    @Option(help: "kvm: the guest's address on --vm-bridge's network, with its prefix (198.19.0.10/24).")
    var vmAddress: String?

    @Option(help: "kvm: the guest's default gateway on --vm-bridge's network.")
    var vmGateway: String?

    /// The `kvm` guest's settings.
    func vmSettings() throws -> VMSettings {
        var settings = VMSettings(
            image: vmImage, cpus: vmCpus ?? vmTopology?.cpus ?? 1, memoryMiB: vmMemory.bytes >> 20, accel: accel,
            disk: vmDisk,
            diskGiB: vmDiskSize, hugepages: vmHugepages, bridge: vmBridge, address: vmAddress, gateway: vmGateway)
        settings.diskFormat = vmDiskFormat
        settings.diskCache = vmDiskCache
        settings.diskAIO = vmDiskAio
        settings.cpuModel = vmCpuModel ?? .host
        settings.topology = vmTopology
        if let problem = settings.problems().first { throw ValidationError(problem) }
        if let containerCpus, !(containerCpus > 0 && containerCpus <= 1024) {
            throw ValidationError("--container-cpus must be above 0 and at most 1024, got \(containerCpus)")
        }
        return settings
    }

    /// The placement, with `serverCPU` (`--redis-cpu`, `--mysql-cpu`: older spellings of
    /// `--sut-cpus`) taken as the SUT's pin when given.
    func placement(serverCPU: Int? = nil, spelled name: String = "") throws -> Placement {
        if serverCPU != nil && sutCpus != nil {
            throw ValidationError("\(name) is another spelling of --sut-cpus: give one of them")
        }
        if let serverCPU, serverCPU < 0 { throw ValidationError("\(name) must not be negative, got \(serverCPU)") }
        var placement = Placement(
            mode: mode.values.first ?? .native, sutCPUs: sutCpus?.cpus ?? serverCPU.map { [$0] },
            peerCPUs: peerCpus?.cpus)
        placement.storageDir = storageDir
        placement.storage = storage ?? mysqlStorage
        placement.vmCPUModel = vmCpuModel
        placement.vmTopology = vmTopology
        if let storage, let mysqlStorage, storage != mysqlStorage {
            throw ValidationError("--mysql-storage is another spelling of --storage: give one of them")
        }
        if let storageDir, !storageDir.hasPrefix("/") {
            throw ValidationError("--storage-dir must be an absolute path on the SUT's host, got \(storageDir)")
        }
        if let problem = placement.problems().first { throw ValidationError(problem) }
        if Set(mode.values).count != mode.values.count { throw ValidationError("--mode lists a mode twice") }
        if !(1...65_531).contains(guestPorts) {
            throw ValidationError("--guest-ports must be 1...65531, got \(guestPorts)")
        }
        _ = try vmSettings()
        return placement
    }

    /// Where a container's data lives: `--storage`, or its older spelling `--mysql-storage`.
    var containerStorage: ContainerStorage { storage ?? mysqlStorage ?? .volume }

    /// One placement per `--mode`, in the order given.
    func placements(serverCPU: Int? = nil, spelled name: String = "") throws -> [Placement] {
        let base = try placement(serverCPU: serverCPU, spelled: name)
        return mode.values.map {
            var p = base
            p.mode = $0
            return p
        }
    }
}

extension VMCPUModel: ExpressibleByArgument {}

extension VMTopology: ExpressibleByArgument {
    package init?(argument: String) { self.init(argument) }
}

/// An open-loop rate per second: `20000`, `20k`, `1.5M`, optionally ending in `/s`.
struct RateArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
    var perSecond: Double

    init?(argument: String) {
        var text = argument.trimmingCharacters(in: .whitespaces)
        if text.hasSuffix("/s") { text.removeLast(2) }
        let scale: Double
        switch text.last {
        case "k", "K": scale = 1e3
        case "M": scale = 1e6
        default: scale = 1
        }
        if scale != 1 { text.removeLast() }
        guard let v = Double(text), v.isFinite, v > 0 else { return nil }
        perSecond = v * scale
    }

    var description: String { OpenLoop.text(perSecond) }

    /// `specs`, each once per rate (the rates innermost, so that a sweep stops at its saturation
    /// point per spec); `specs` unchanged without rates (closed loop).
    static func expand<S: OpenLoopSpec>(_ specs: [S], _ rates: CommaList<RateArgument>?) -> [S] {
        guard let rates else { return specs }
        return specs.flatMap { spec in
            rates.values.map {
                var s = spec
                s.rate = $0.perSecond
                return s
            }
        }
    }
}

/// A size or rate with an optional SI (`K`, `M`, `G`: powers of 1000) or binary (`KiB`, `MiB`, `GiB`) suffix.
struct SizeArgument: ExpressibleByArgument, Sendable {
    var bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        let units: [(String, Double)] = [
            ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("K", 1e3), ("M", 1e6), ("G", 1e9), ("k", 1e3),
        ]
        let text = argument.trimmingCharacters(in: .whitespaces)
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let v = Double(text.dropLast(suffix.count)), v >= 0,
                let n = Int(exactly: (v * scale).rounded(.towardZero))
            else { return nil }
            bytes = n
            return
        }
        guard let v = Int(text) else { return nil }
        bytes = v
    }
}

/// The agents a workload command talks to: a lab file, or the addresses and token given one by one.
struct AgentOptions: ParsableArguments {
    @Option(help: "The lab file (YAML) naming the agents, their data addresses and the token file.")
    var lab: String?

    @Option(
        help:
            "How long to keep trying to reconnect an agent that went away mid-run (a restart, a reboot) and go on, before the run fails (10s, 3m). Default 0: the run fails at once."
    )
    var reconnectWait: DurationArgument = DurationArgument(nanoseconds: RunPlan.defaultReconnectWaitNs)

    @Option(help: "The SUT agent's control address, HOST:PORT.")
    var sut: Endpoint?

    @Option(
        help: ArgumentHelp(
            "The peer agents' control addresses, HOST:PORT, comma-separated (workloads that run on the SUT alone need none).",
            discussion:
                "Several peers split each step's load evenly (flows, streams, connections, threads) and start together."
        ))
    var peer: CommaList<Endpoint>?

    @Option(help: "Address the peer uses to reach the SUT on the test network (default: the SUT's control host).")
    var sutData: String?

    @Option(help: "File holding the lab token (mode 0600).")
    var tokenFile: String?

    @Flag(help: "Start two agents on this machine (SUT and peer on loopback, as quickstart does) and run against them.")
    var local = false

    func validate() throws {
        if local {
            guard lab == nil, sut == nil, peer == nil, tokenFile == nil else {
                throw ValidationError(
                    "--local starts its own agents: --lab, --sut, --peer and --token-file do not apply")
            }
        } else if lab == nil {
            guard sut != nil, tokenFile != nil else {
                throw ValidationError(
                    "give --lab FILE, or --sut, --peer and --token-file (--peer: where a workload has a load generator)"
                )
            }
        } else if sut != nil || peer != nil || tokenFile != nil {
            throw ValidationError("--lab names the agents and the token: --sut, --peer and --token-file do not apply")
        }
    }

    /// The agents' addresses, the SUT's data address and the token file: the local agents' with
    /// `--local`, the lab file's if given, else the options'.
    func resolve(local agents: LocalAgents? = nil) throws -> (
        sut: Endpoint, peers: [Endpoint], sutData: String, tokenFile: String
    ) {
        if let agents { return (agents.sut, [agents.peer], sutData ?? "127.0.0.1", agents.tokenPath) }
        if local { throw ValidationError("--local: the local agents were not started") }
        if let lab {
            let file = try LabFile.load(lab)
            return (
                file.host(.sut).control, file.hosts(.peer).map(\.control), sutData ?? file.host(.sut).data,
                file.tokenFile
            )
        }
        let peers = peer?.values ?? []
        if Set(peers).count != peers.count { throw ValidationError("--peer lists an agent twice") }
        return (sut!, peers, sutData ?? sut!.host, tokenFile!)
    }
}

/// The measurement window every workload command takes.
struct TimingOptions: ParsableArguments {
    @Option(help: "Length of the measurement window (e.g. 10s).")
    var duration: DurationArgument = DurationArgument(nanoseconds: 10_000_000_000)

    @Option(help: "Warm-up before the window.")
    var warmup: DurationArgument = DurationArgument(nanoseconds: 1_000_000_000)

    /// The steps' timing.
    var timing: StepTiming { StepTiming(warmupNs: warmup.nanoseconds, durationNs: duration.nanoseconds) }

    func validate() throws {
        if let problem = timing.problems().first { throw ValidationError(problem) }
    }
}

/// Where a workload command's results go: a new directory, or one to resume.
struct OutputOptions: ParsableArguments {
    @Option(help: "Results directory (must not hold a run yet).")
    var out: String?

    @Option(
        help: ArgumentHelp(
            "Continue the run in this directory: finished steps are kept and skipped, the rest run.",
            discussion: "The command's parameters must be the ones the run was started with."))
    var resume: String?

    @Flag(help: "No progress output (no status line, no per-step lines); tables and errors still print.")
    var quiet = false

    @Option(
        help: "Add the finished run to this history database (SQLite, made when absent); see `lockstep regressions`.")
    var history: String?

    @Flag(help: "Exit with status 3 when any step's verdict is suspect (a check failed); see `lockstep check`.")
    var strict = false

    @Option(
        name: .customLong("retry-suspect"),
        help: "Run a suspect step again up to N times with what its verdict suggests (longer warm-up or window).")
    var retrySuspect = 0

    func validate() throws {
        if out != nil && resume != nil { throw ValidationError("--out and --resume exclude each other") }
        if !(0...10).contains(retrySuspect) { throw ValidationError("--retry-suspect must be 0...10") }
    }

    /// A run writes somewhere: `--out` or `--resume` (a plan's dry run needs neither).
    func requireDirectory() throws {
        if out == nil && resume == nil {
            throw ValidationError("give --out DIR for a new run or --resume DIR to continue one")
        }
    }

    /// The results directory.
    var directory: String { out ?? resume ?? "" }
}

/// A workload command's own options with its timing and placement: what its command line sets
/// and, spelled the same without the dashes, what a plan's experiment of that workload sets.
protocol WorkloadOptions: ParsableArguments {
    /// The subcommand's name and the experiment's key in a plan.
    static var name: String { get }
    var timing: TimingOptions { get }
    var placement: PlacementOptions { get }
    /// One workload per sweep point, in the order given.
    func workloads() throws -> [Workload]
    /// One placement per `--mode`, in the order given.
    func placements() throws -> [Placement]
}

extension WorkloadOptions {
    func placements() throws -> [Placement] { try placement.placements() }

    /// Checks the placement options and each spec; the first problem as the parser's error.
    func validate(_ specs: [some WorkloadSpec]) throws {
        _ = try placement.placement()
        for spec in specs {
            if let problem = spec.problems().first { throw ValidationError(problem) }
        }
    }

    /// Every step: for every point, each mode in the order given.
    func steps() throws -> [PlannedStep] {
        let placements = try placements()
        return try workloads().flatMap { w in placements.map { PlannedStep(w, timing: timing.timing, placement: $0) } }
    }
}

extension CLI {
    /// Runs a workload command's steps between the agents, prints the summary table and where the results are.
    static func runWorkloads(
        _ options: some WorkloadOptions, agents: AgentOptions, output: OutputOptions, observe: ObserveOptions
    ) async throws {
        let steps = try await reportingErrors { try options.steps() }
        let local = try await reportingErrors { try agents.startLocal() }
        defer { local?.stop() }
        let target = try await reportingErrors { try agents.resolve(local: local) }
        let watch = try await reportingErrors { try observe.start(directory: output.directory) }
        defer { watch.close() }
        var plan = RunPlan(
            sut: target.sut, peers: target.peers, sutDataHost: target.sutData, token: try loadToken(target.tokenFile),
            steps: steps, outDirectory: output.directory, command: CommandLine.arguments.joined(separator: " "),
            resume: output.resume != nil)
        plan.reconnectWaitNs = agents.reconnectWait.nanoseconds
        plan.retrySuspect = output.retrySuspect
        try plan.use(options.placement)
        let live = RunProgress.forStandardError(quiet: output.quiet)
        let outcomes = try await reportingRun(into: output.directory) {
            try await BenchmarkRun(plan: plan, progress: live.say, live: live, observer: watch.observer).run()
        }
        if !outcomes.isEmpty { print(SummaryTable.render(outcomes)) }
        if let peers = PeerTable.render(outcomes) { print("\n" + peers) }
        if let ratios = RatioTable.render(outcomes) { print("\n" + ratios) }
        if plan.resume {
            print("resumed: \(outcomes.count) step(s) run now, \(steps.count - outcomes.count) finished before")
        }
        print("results: \(output.directory)")
        await finish(output.directory, history: output.history)
        try failOnSuspect(outcomes, strict: output.strict)
    }
}

extension AgentOptions {
    /// With `--local`, two agents started on loopback (stopped by the caller); else `nil`.
    func startLocal() throws -> LocalAgents? {
        guard local else { return nil }
        return try LocalAgents(agentBinary: LocalAgents.siblingAgentBinary())
    }
}

extension RunPlan {
    /// Takes the run-wide settings of the placement options: the container image, the storage
    /// placement, the guest ports, the kvm guest's settings.
    mutating func use(_ options: PlacementOptions) throws {
        image = options.image
        storage = options.containerStorage
        storageDir = options.storageDir
        guestPortBase = options.guestPorts
        vm = try options.vmSettings()
        containerCPUs = options.containerCpus
    }
}
