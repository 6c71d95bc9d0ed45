import ArgumentParser
import Foundation
import Shared

/// `lockstep quickstart`: two local agents, a short TCP_RR and UDP_RR, a summary, a results directory.
struct QuickstartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Start two local agents on loopback and run a short TCP_RR and UDP_RR between them.")

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
            let steps = [RRProtocol.tcp, .udp].map {
                Workload.rr(
                    RRSpec(
                        proto: $0, requestSize: 100, responseSize: 200, flows: 1, warmupNs: 500_000_000,
                        durationNs: duration.nanoseconds))
            }
            let plan = RunPlan(
                sut: agents.sut, peer: agents.peer, sutDataHost: "127.0.0.1",
                token: try Token.load(path: agents.tokenPath), steps: steps, outDirectory: outDirectory,
                command: CommandLine.arguments.joined(separator: " "))
            return try await BenchmarkRun(plan: plan).run()
        }
        print(SummaryTable.render(outcomes))
        print("results: \(outDirectory) (run.json, samples.jsonl, summary.csv, histograms/, merged-log.jsonl)")
    }
}
