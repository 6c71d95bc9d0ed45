import ArgumentParser
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

    func run() async throws {
        let outDirectory = out ?? "lockstep-results/quickstart-\(BenchmarkRun.makeRunID())"
        let outcomes = try await CLI.reportingErrors {
            let agents = try LocalAgents(agentBinary: agentBinary ?? LocalAgents.siblingAgentBinary())
            defer { agents.stop() }
            let steps = Self.suite(durationNs: duration.nanoseconds)
            let plan = RunPlan(
                sut: agents.sut, peer: agents.peer, sutDataHost: "127.0.0.1",
                token: try Token.load(path: agents.tokenPath), steps: steps, outDirectory: outDirectory,
                command: CommandLine.arguments.joined(separator: " "))
            return try await BenchmarkRun(plan: plan).run()
        }
        for skipped in Self.skipped() { print(skipped) }
        print(SummaryTable.render(outcomes))
        print("results: \(outDirectory) (run.json, samples.jsonl, summary.csv, histograms/, merged-log.jsonl)")
    }

    /// The suite: RR both protocols, bulk both directions, then Redis and MySQL where installed.
    static func suite(durationNs: Int64) -> [PlannedStep] {
        var workloads = [RRProtocol.tcp, .udp].map {
            Workload.rr(RRSpec(proto: $0, requestSize: 100, responseSize: 200, flows: 1))
        }
        workloads += [StreamDirection.sutTx, .sutRx].map { .stream(StreamSpec(direction: $0)) }
        if installed("redis-server") { workloads.append(.redis(RedisSpec(connections: 8))) }
        if installed("mariadbd") || installed("mysqld") {
            workloads.append(
                .mysql(
                    MySQLSpec(
                        threads: 4, tableSize: 10_000, password: randomPassword(),
                        server: MySQLServerSpec(bufferPoolMiB: 128))))
        }
        let timing = StepTiming(warmupNs: 500_000_000, durationNs: durationNs)
        return workloads.map { PlannedStep($0, timing: timing) }
    }

    /// A line for each workload left out because its server is not installed.
    static func skipped() -> [String] {
        var out: [String] = []
        if !installed("redis-server") { out.append("skipped redis: redis-server is not installed") }
        if !installed("mariadbd") && !installed("mysqld") {
            out.append("skipped mysql: neither mariadbd nor mysqld is installed")
        }
        return out
    }

    /// Whether `program` is on PATH or in an sbin directory, as the agent looks for it.
    static func installed(_ program: String) -> Bool { Executable.find(program) != nil }
}
