import ArgumentParser
import Foundation
import Shared

/// `lockstep stream`: nuttcp-style bulk transfer between the SUT and the peer, with the SUT's CPU cost.
struct StreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Bulk TCP transfer (nuttcp-style) in either or both directions, with SUT CPU per byte.")

    @OptionGroup var agents: AgentOptions
    @OptionGroup var options: StreamOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var observe: ObserveOptions

    func validate() throws { try output.requireDirectory() }

    func run() async throws { try await CLI.runWorkloads(options, agents: agents, output: output, observe: observe) }
}

/// `stream`'s own options, with timing and placement: what the command line and a plan's `stream` experiment set.
struct StreamOptions: WorkloadOptions {
    static let name = "stream"

    @Option(help: "sut-tx (SUT sends), sut-rx (SUT receives), or both (two steps, one after the other).")
    var direction: DirectionArgument = .both

    @OptionGroup var timing: TimingOptions

    @Option(help: "Parallel TCP streams.")
    var streams: Int = 1

    @Option(help: "Bytes per send/recv call (e.g. 64KiB, 1MiB).")
    var buffer: SizeArgument = SizeArgument(bytes: 65_536)

    @Option(help: "SO_SNDBUF/SO_RCVBUF (default: kernel autotuning).")
    var socketBuffer: SizeArgument?

    @Option(help: "Rate limit per stream in bits/s (e.g. 5G, 800M).")
    var rate: SizeArgument?

    @OptionGroup var placement: PlacementOptions

    func validate() throws {
        _ = try placement.placement()
        for spec in specs() {
            if let problem = spec.problems().first { throw ValidationError(problem) }
        }
    }

    func specs() -> [StreamSpec] {
        direction.directions.map {
            StreamSpec(
                direction: $0, streams: streams, bufferSize: buffer.bytes, socketBuffer: socketBuffer?.bytes,
                rateBitsPerSecond: rate.map { Int64($0.bytes) })
        }
    }

    func workloads() throws -> [Workload] { specs().map { Workload($0) } }
}

/// `--direction`.
enum DirectionArgument: String, ExpressibleByArgument, CaseIterable {
    case sutTx = "sut-tx"
    case sutRx = "sut-rx"
    case both

    var directions: [StreamDirection] {
        switch self {
        case .sutTx: [.sutTx]
        case .sutRx: [.sutRx]
        case .both: [.sutTx, .sutRx]
        }
    }
}
