import ArgumentParser
import CLockstepSys
import Foundation
import Shared

/// `lockstep quickstart`: two local agents and a short suite of every workload between them (TCP_RR,
/// UDP_RR, bulk transfer both ways, and a Redis and a MySQL point where those servers are
/// installed), a summary, a results directory.
struct QuickstartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Start two local agents on loopback and run a short suite of every workload between them.")

    @Option(help: "Results directory (default: lockstep-results/quickstart-<run time>).")
    var out: String?

    @Option(help: "Length of each measurement window.")
    var duration: DurationArgument = DurationArgument(nanoseconds: 3_000_000_000)

    @Option(help: "The lockstep-agent binary (default: the one beside this executable).")
    var agentBinary: String?

    @Option(
        help:
            "Deployment modes, comma-separated (default: native, and netns-nat where this user has root or CAP_NET_ADMIN)."
    )
    var mode: CommaList<DeploymentMode>?

    @Flag(help: "No progress output (no status line, no per-step lines); tables and errors still print.")
    var quiet = false

    @Option(help: "Add the finished run to this history database (SQLite, made when absent).")
    var history: String?

    @OptionGroup var observe: ObserveOptions

    func run() async throws {
        let outDirectory = out ?? "lockstep-results/quickstart-\(BenchmarkRun.makeRunID())"
        let watch = try await CLI.reportingErrors { try observe.start(directory: outDirectory) }
        defer { watch.close() }
        let outcomes = try await CLI.reportingRun(into: outDirectory) {
            let agents = try LocalAgents(agentBinary: agentBinary ?? LocalAgents.siblingAgentBinary())
            defer { agents.stop() }
            let steps = Self.suite(durationNs: duration.nanoseconds, modes: modes)
            let plan = RunPlan(
                sut: agents.sut, peer: agents.peer, sutDataHost: "127.0.0.1",
                token: try Token.load(path: agents.tokenPath), steps: steps, outDirectory: outDirectory,
                command: CommandLine.arguments.joined(separator: " "))
            let live = RunProgress.forStandardError(quiet: quiet)
            return try await BenchmarkRun(plan: plan, progress: live.say, live: live, observer: watch.observer).run()
        }
        for skipped in Self.skipped() + modeSkipped { print(skipped) }
        print(SummaryTable.render(outcomes))
        if let ratios = RatioTable.render(outcomes) { print("\n" + ratios) }
        print("results: \(outDirectory) (run.json, samples.jsonl, summary.csv, histograms/, merged-log.jsonl)")
        await CLI.finish(outDirectory, history: history)
    }

    /// The suite: RR both protocols, bulk both directions, then Redis, MySQL and fio (a 4 KiB random
    /// read at QD16 on the SUT alone, its file in the local agent's state folder), hpcc (N=2400) and
    /// xz (48 MiB, 2 threads) where installed: each run to completion sized to last the 2 s the
    /// too-short check asks for on a 2-CPU machine (N=1000 and 16 MiB ran 0.5 and 0.9 s: noise).
    static func suite(durationNs: Int64, modes: [DeploymentMode] = [.native]) -> [PlannedStep] {
        var workloads = [RRProtocol.tcp, .udp].map {
            Workload(RRSpec(proto: $0, requestSize: 100, responseSize: 200, flows: 1))
        }
        workloads += [StreamDirection.sutTx, .sutRx].map { Workload(StreamSpec(direction: $0)) }
        if installed("redis-server") { workloads.append(Workload(RedisSpec(connections: 8))) }
        if installed("mariadbd") || installed("mysqld") {
            workloads.append(
                Workload(
                    MySQLSpec(
                        threads: 4, tableSize: 10_000, password: randomPassword(),
                        server: MySQLServerSpec(bufferPoolMiB: 128))))
        }
        if installed("fio") {
            // O_DIRECT where the temporary folder (the local agents' state) takes it.
            let direct = lockstep_accepts_direct_io(NSTemporaryDirectory()) == 1
            workloads.append(
                Workload(
                    FioSpec(job: FioJob(rw: .randread, blockSize: 4096, iodepth: 16), size: 32 << 20, direct: direct)))
        }
        if installed("hpcc") && installed("mpirun") {
            workloads.append(Workload(HpccSpec(n: 2400, nb: 96, timeLimitSeconds: 300)))
        }
        if installed("xz") {
            workloads.append(Workload(CompressSpec(threads: 2, level: 2, size: 48 << 20, timeLimitSeconds: 300)))
        }
        let timing = StepTiming(warmupNs: 500_000_000, durationNs: durationNs)
        return workloads.flatMap { w in modes.map { PlannedStep(w, timing: timing, placement: Placement(mode: $0)) } }
    }

    /// The modes to run: `--mode`, else native and, where the rights are there, netns-nat.
    var modes: [DeploymentMode] { mode?.values ?? (Self.netnsNATMissing == nil ? [.native, .netnsNAT] : [.native]) }

    /// A line saying why netns-nat was left out, when it was.
    var modeSkipped: [String] {
        guard mode == nil, let why = Self.netnsNATMissing else { return [] }
        return ["skipped netns-nat (the NAT comparison): \(why)"]
    }

    /// Why this user cannot run netns-nat here, or `nil` when it can.
    static var netnsNATMissing: String? {
        if !hasNetAdmin { return "it needs root or CAP_NET_ADMIN; run quickstart as root to see it" }
        for tool in ["ip", "nft"] where !installed(tool) {
            return "\(tool) is not installed (apt-get install \(tool == "ip" ? "iproute2" : "nftables"))"
        }
        return nil
    }

    /// Whether this process has CAP_NET_ADMIN (root has it).
    static var hasNetAdmin: Bool {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
            let caps = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return geteuid() == 0 }
        return caps & (1 << 12) != 0
    }

    /// A line for each workload left out because its server is not installed.
    static func skipped() -> [String] {
        var out: [String] = []
        if !installed("redis-server") { out.append("skipped redis: redis-server is not installed") }
        if !installed("mariadbd") && !installed("mysqld") {
            out.append("skipped mysql: neither mariadbd nor mysqld is installed")
        }
        if !installed("fio") { out.append("skipped fio: fio is not installed (apt-get install fio)") }
        if !installed("hpcc") || !installed("mpirun") {
            out.append("skipped hpcc: hpcc or mpirun is not installed (apt-get install hpcc openmpi-bin)")
        }
        if !installed("xz") { out.append("skipped compress: xz is not installed (apt-get install xz-utils)") }
        return out
    }

    /// Whether `program` is on PATH or in an sbin directory, as the agent looks for it.
    static func installed(_ program: String) -> Bool { Executable.find(program) != nil }
}
