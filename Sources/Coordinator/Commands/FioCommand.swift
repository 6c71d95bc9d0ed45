import ArgumentParser
import Foundation
import Shared

/// `lockstep fio`: block I/O on the SUT alone, Debian's fio in the step's storage placement.
struct FioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fio",
        abstract: "Block I/O on the SUT (fio) in each mode's storage placement; no peer needed.")

    @OptionGroup var agents: AgentOptions
    @OptionGroup var options: FioOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var observe: ObserveOptions

    func validate() throws { try output.requireDirectory() }

    func run() async throws { try await CLI.runWorkloads(options, agents: agents, output: output, observe: observe) }
}

/// The job set: the paper's, or one job from the single knobs.
enum FioJobs: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// The paper's job file, one step per job (`FioJob.paper`).
    case paper
    /// One job from `--rw`, `--bs`, `--iodepth`, `--numjobs` (lists of the last two sweep).
    case single
}

extension FioIOEngine: ExpressibleByArgument {}
extension FioPattern: ExpressibleByArgument {}

/// `fio`'s own options, with timing and placement: what the command line and a plan's `fio` experiment set.
struct FioOptions: WorkloadOptions {
    static let name = "fio"

    @Option(help: "paper: the paper's jobs, one step each; single: one job from --rw (default when --rw is given).")
    var jobs: FioJobs?

    @Option(help: "The single job's pattern: read, write, randread, randwrite, randrw, rw.")
    var rw: FioPattern?

    @Option(help: "The single job's block size (4KiB, 1MiB).")
    var bs: SizeArgument = SizeArgument(bytes: 4096)

    @Option(help: "Queue depth per job; a comma-separated list is a sweep.")
    var iodepth: CommaList<Int> = CommaList([16])

    @Option(help: "Jobs (threads) in the group; a comma-separated list is a sweep.")
    var numjobs: CommaList<Int> = CommaList([1])

    @Option(help: "Percent of reads in a mixed job (randrw, rw).")
    var rwmixread: Int?

    @Option(help: "The file's size (laid out and checked before the first step).")
    var size: SizeArgument = SizeArgument(bytes: 64 << 20)

    @Option(help: "fio's I/O engine: libaio, io_uring, psync.")
    var ioengine: FioIOEngine = .libaio

    @Option(help: "1: O_DIRECT (bypass the page cache), 0: buffered.")
    var direct: Int = 1

    @OptionGroup var timing: TimingOptions

    @OptionGroup var placement: PlacementOptions

    func validate() throws {
        _ = try placement.placement()
        if ![0, 1].contains(direct) { throw ValidationError("--direct must be 0 or 1, got \(direct)") }
        if jobs == .single && rw == nil { throw ValidationError("--jobs single needs --rw") }
        if jobs == .paper && rw != nil { throw ValidationError("--jobs paper runs the paper's jobs: leave out --rw") }
        try validate(try specs())
    }

    /// The paper's jobs, or one spec per iodepth and numjobs of the single job.
    func specs() throws -> [FioSpec] {
        let jobs: [FioJob]
        if let rw, self.jobs != .paper {
            jobs = iodepth.values.flatMap { qd in
                numjobs.values.map {
                    FioJob(rw: rw, blockSize: bs.bytes, iodepth: qd, numjobs: $0, readPercent: rwmixread)
                }
            }
        } else {
            jobs = FioJob.paper
        }
        return jobs.map { FioSpec(job: $0, size: size.bytes, ioengine: ioengine, direct: direct == 1) }
    }

    func workloads() throws -> [Workload] { try specs().map { Workload($0) } }
}
