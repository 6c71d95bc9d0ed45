import ArgumentParser
import Foundation
import Shared

/// `lockstep rr`: a synchronized netperf-style TCP_RR or UDP_RR run between two agents.
struct RRCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rr",
        abstract: "Request/response latency (netperf TCP_RR / UDP_RR) between the SUT and the peer.")

    @OptionGroup var agents: AgentOptions

    @Option(name: .customLong("protocol"), help: "tcp or udp; a comma-separated list runs one step each.")
    var protocols: String = "tcp"

    @Option(help: "Request size in bytes.")
    var request: Int = 100

    @Option(help: "Response size in bytes.")
    var response: Int = 200

    @OptionGroup var timing: TimingOptions

    @Option(help: "Concurrent flows, each with one transaction in flight.")
    var flows: Int = 1

    @Option(help: "UDP: a response not back within this time counts as lost.")
    var udpTimeout: DurationArgument = DurationArgument(nanoseconds: 50_000_000)

    @OptionGroup var output: OutputOptions

    func validate() throws {
        let protos = try parsedProtocols()
        for spec in protos.map(makeSpec) {
            if let problem = spec.problems().first { throw ValidationError(problem) }
        }
    }

    func parsedProtocols() throws -> [RRProtocol] {
        try protocols.split(separator: ",").map {
            guard let p = RRProtocol(rawValue: $0.lowercased().trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("unknown protocol '\($0)': use tcp or udp")
            }
            return p
        }
    }

    func makeSpec(_ proto: RRProtocol) -> RRSpec {
        RRSpec(
            proto: proto, requestSize: request, responseSize: response, flows: flows,
            warmupNs: timing.warmup.nanoseconds,
            durationNs: timing.duration.nanoseconds, lossTimeoutNs: udpTimeout.nanoseconds)
    }

    func run() async throws {
        try await CLI.runWorkloads(try parsedProtocols().map { .rr(makeSpec($0)) }, agents: agents, output: output)
    }
}
