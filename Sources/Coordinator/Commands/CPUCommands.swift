import ArgumentParser
import Foundation
import Shared

/// `lockstep hpcc`: HPL, STREAM and RandomAccess on the SUT alone (Debian's hpcc under OpenMPI).
struct HpccCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hpcc",
        abstract: "CPU and memory on the SUT (hpcc: HPL, STREAM, RandomAccess) in each mode; no peer needed.",
        discussion:
            "The suite runs to completion at the step's instant: its window is the run (measured), so --duration and --warmup do not apply."
    )

    @OptionGroup var agents: AgentOptions
    @OptionGroup var options: HpccOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var observe: ObserveOptions

    func validate() throws { try output.requireDirectory() }

    func run() async throws { try await CLI.runWorkloads(options, agents: agents, output: output, observe: observe) }
}

/// `hpcc`'s own options, with placement: what the command line and a plan's `hpcc` experiment set.
struct HpccOptions: WorkloadOptions {
    static let name = "hpcc"

    @Option(help: "HPL's order N; a comma-separated list is a sweep (default: from --memory-fraction).")
    var n: CommaList<Int>?

    @Option(help: "Share of the placement's available memory HPL's matrix fills when --n is not given.")
    var memoryFraction: Double = 0.25

    @Option(help: "HPL's block size NB.")
    var nb: Int = 192

    @Option(help: "MPI ranks (default: one per CPU the placement may use).")
    var ranks: Int?

    @Option(help: "Seconds the suite may run before it counts as hung.")
    var timeLimit: Int = 3600

    @OptionGroup var timing: TimingOptions

    @OptionGroup var placement: PlacementOptions

    func validate() throws { try validate(specs()) }

    /// One spec per N (or one sized from memory).
    func specs() -> [HpccSpec] {
        let sizes: [Int?] = n.map { $0.values.map { Optional($0) } } ?? [nil]
        return sizes.map {
            HpccSpec(n: $0, memoryFraction: memoryFraction, nb: nb, ranks: ranks, timeLimitSeconds: timeLimit)
        }
    }

    func workloads() throws -> [Workload] { specs().map { Workload($0) } }
}

/// `lockstep compress`: parallel xz over a deterministic corpus on the SUT alone.
struct CompressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Parallel compression on the SUT (xz -T N, or pixz) in each mode; no peer needed.",
        discussion:
            "The compressor runs to completion at the step's instant over a corpus the SUT's agent generates from --seed: its window is the run, so --duration and --warmup do not apply."
    )

    @OptionGroup var agents: AgentOptions
    @OptionGroup var options: CompressOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var observe: ObserveOptions

    func validate() throws { try output.requireDirectory() }

    func run() async throws { try await CLI.runWorkloads(options, agents: agents, output: output, observe: observe) }
}

extension CompressTool: ExpressibleByArgument {}

/// The compressor's options, with placement: what the command line and a plan's `compress` experiment set.
struct CompressOptions: WorkloadOptions {
    static let name = "compress"

    @Option(help: "The compressor: xz or pixz.")
    var tool: CompressTool = .xz

    @Option(help: "Compressor threads; a comma-separated list is a sweep.")
    var threads: CommaList<Int> = CommaList([1])

    @Option(help: "Compression level 0-9; a comma-separated list is a sweep.")
    var level: CommaList<Int> = CommaList([6])

    @Option(help: "The corpus's size (e.g. 256MiB).")
    var size: SizeArgument = SizeArgument(bytes: 256 << 20)

    @Option(help: "The corpus generator's seed: the same seed and size give the same bytes everywhere.")
    var seed: UInt64 = 1

    @Option(help: "Seconds a run may take before it counts as hung.")
    var timeLimit: Int = 1800

    @OptionGroup var timing: TimingOptions

    @OptionGroup var placement: PlacementOptions

    func validate() throws { try validate(specs()) }

    /// One spec per thread count and level.
    func specs() -> [CompressSpec] {
        threads.values.flatMap { t in
            level.values.map {
                CompressSpec(
                    tool: tool, threads: t, level: $0, size: size.bytes, seed: seed, timeLimitSeconds: timeLimit)
            }
        }
    }

    func workloads() throws -> [Workload] { specs().map { Workload($0) } }
}
