import ArgumentParser
import Foundation
import Shared

/// `lockstep rr`: a synchronized netperf-style TCP_RR or UDP_RR run between two agents.
struct RRCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rr",
        abstract: "Request/response latency (netperf TCP_RR / UDP_RR) between the SUT and the peer.")

    @OptionGroup var agents: AgentOptions
    @OptionGroup var options: RROptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var observe: ObserveOptions

    func validate() throws { try output.requireDirectory() }

    func run() async throws { try await CLI.runWorkloads(options, agents: agents, output: output, observe: observe) }
}

/// `rr`'s own options, with timing and placement: what the command line and a plan's `rr` experiment set.
struct RROptions: WorkloadOptions {
    static let name = "rr"

    @Option(name: .customLong("protocol"), help: "tcp or udp; a comma-separated list runs one step each.")
    var protocols: CommaList<RRProtocol> = CommaList([.tcp])

    @Option(help: "Request size in bytes.")
    var request: Int = 100

    @Option(help: "Response size in bytes.")
    var response: Int = 200

    @OptionGroup var timing: TimingOptions

    @Option(help: "Concurrent flows, each with one transaction in flight.")
    var flows: Int = 1

    @Option(help: "UDP: a response not back within this time counts as lost.")
    var udpTimeout: DurationArgument = DurationArgument(nanoseconds: 50_000_000)

    @Option(
        help:
            "Open loop: transactions per second over all flows, each sent at its intended time and timed from it (20000, 20k); a comma-separated list sweeps them, stopping where the SUT saturates. Default: closed loop."
    )
    var rate: CommaList<RateArgument>?

    @Option(
        help:
            "Open loop: uniform (one every 1/rate, the default) or poisson (exponential gaps; the arrivals check tests them)."
    )
    var arrivals: Arrivals = .uniform

    @OptionGroup var placement: PlacementOptions

    func validate() throws {
        _ = try placement.placement()
        for spec in specs() {
            if let problem = spec.problems().first { throw ValidationError(problem) }
        }
    }

    /// One spec per protocol.
    func specs() -> [RRSpec] {
        RateArgument.expand(
            protocols.values.map {
                var spec = RRSpec(
                    proto: $0, requestSize: request, responseSize: response, flows: flows,
                    lossTimeoutNs: udpTimeout.nanoseconds)
                if arrivals == .poisson { spec.arrivals = .poisson }
                return spec
            }, rate)
    }

    func workloads() throws -> [Workload] { specs().map { Workload($0) } }
}

extension Arrivals: ExpressibleByArgument {}
