/// STREAM's four kernels, GB/s (10^9 bytes).
package struct StreamKernels: Codable, Equatable, Sendable {
    package var copy: Double
    package var scale: Double
    package var add: Double
    package var triad: Double

    package init(copy: Double, scale: Double, add: Double, triad: Double) {
        self.copy = copy
        self.scale = scale
        self.add = add
        self.triad = triad
    }

    /// Each kernel times `factor`.
    package func times(_ factor: Double) -> StreamKernels {
        StreamKernels(copy: copy * factor, scale: scale * factor, add: add * factor, triad: triad * factor)
    }
}

/// The SUT's side of an hpcc step: HPL with its problem, grid and residual check, STREAM single and
/// over the placement, RandomAccess single, star and MPI, and the rest of the suite's headlines;
/// what the placement's CPUs looked like, its double-precision peak, and what ran.
package struct HpccResult: WorkloadResult {
    package static let resultKind = "hpccSUT"
    /// `hpcc 1.5.0f`, the BLAS library it ran with, MPI's version.
    package var engine: String
    package var blas: String
    package var mpi: String
    /// The exact command line.
    package var command: String
    package var ranks: Int
    /// HPL's order, block size and process grid.
    package var n: Int
    package var nb: Int
    package var p: Int
    package var q: Int
    package var hplGflops: Double
    package var hplSeconds: Double
    /// HPL's scaled residual; the step fails when HPL did not call it PASSED.
    package var hplResidual: Double
    /// The placement's double-precision peak over the ranks' CPUs, GFLOPS; `nil` without a clock.
    package var peakGflops: Double?
    /// STREAM in one process while the others idle.
    package var streamSingle: StreamKernels
    /// STREAM per process while every rank runs it (`StarSTREAM`).
    package var streamPerProcess: StreamKernels
    /// RandomAccess, GUPS: one process, per process while all run, and the MPI version over all ranks.
    package var randomAccessSingle: Double
    package var randomAccessStar: Double
    package var randomAccessMPI: Double
    /// RandomAccess's errors in the MPI version (updates lost to races, allowed up to 1%).
    package var randomAccessErrorsFraction: Double
    /// DGEMM per process (star) and the MPI FFT, GFLOPS; PTRANS GB/s.
    package var dgemmStarGflops: Double
    package var fftMPIGflops: Double
    package var ptransGBs: Double
    /// The suite's wall time, seconds (the step's window).
    package var seconds: Double
    /// What the placement's CPUs looked like to the ranks.
    package var cpu: CPUView
    /// The kernel set OpenBLAS picked from the CPU's flags (`SkylakeX`, `Haswell`, `Prescott`), where
    /// it said.
    package var blasCore: String?
    /// Variables of the agent's environment that would have chosen the BLAS's kernels or threads,
    /// removed for the engine (`OPENBLAS_CORETYPE`).
    package var environmentRemoved: [String] = []

    /// STREAM over the placement: the per-process figure times the processes (said so in its help).
    package var streamPlacement: StreamKernels { streamPerProcess.times(Double(ranks)) }

    /// HPL's share of the peak, percent.
    package var hplPeakPercent: Double? { peakGflops.flatMap { $0 > 0 ? 100 * hplGflops / $0 : nil } }

    package init(
        output: HpccOutput, engine: String, blas: String, mpi: String, command: String, ranks: Int, seconds: Double,
        cpu: CPUView
    ) throws {
        self.engine = engine
        self.blas = blas
        self.mpi = mpi
        self.command = command
        self.ranks = ranks
        self.seconds = seconds
        self.cpu = cpu
        let o = output
        n = try o.integer("HPL_N")
        nb = try o.integer("HPL_NB")
        p = try o.integer("HPL_nprow")
        q = try o.integer("HPL_npcol")
        hplGflops = try o.number("HPL_Tflops") * 1000
        hplSeconds = try o.number("HPL_time")
        hplResidual = o.residual
        peakGflops = cpu.peakGflops(cores: min(ranks, cpu.usableCPUs))
        streamSingle = StreamKernels(
            copy: try o.number("SingleSTREAM_Copy"), scale: try o.number("SingleSTREAM_Scale"),
            add: try o.number("SingleSTREAM_Add"), triad: try o.number("SingleSTREAM_Triad"))
        streamPerProcess = StreamKernels(
            copy: try o.number("StarSTREAM_Copy"), scale: try o.number("StarSTREAM_Scale"),
            add: try o.number("StarSTREAM_Add"), triad: try o.number("StarSTREAM_Triad"))
        randomAccessSingle = try o.number("SingleRandomAccess_GUPs")
        randomAccessStar = try o.number("StarRandomAccess_GUPs")
        randomAccessMPI = try o.number("MPIRandomAccess_GUPs")
        randomAccessErrorsFraction = try o.number("MPIRandomAccess_ErrorsFraction")
        dgemmStarGflops = try o.number("StarDGEMM_Gflops")
        fftMPIGflops = try o.number("MPIFFT_Gflops")
        ptransGBs = try o.number("PTRANS_GBs")
        let procs = try o.integer("CommWorldProcs")
        guard procs == ranks else {
            throw HpccOutputError("hpcc ran \(procs) processes, asked for \(ranks)")
        }
        guard o.residualPassed else {
            throw HpccOutputError(
                "HPL's residual check FAILED (scaled residual \(o.residual) at N=\(n)): the result is wrong, not slow")
        }
    }

    package var engineCommand: String? {
        "\(engine) (\(blas)\(blasCore.map { ", core \($0)" } ?? ""), \(mpi))"
            + (environmentRemoved.isEmpty ? "" : " without \(environmentRemoved.joined(separator: ", "))")
            + ": \(command)"
    }
}

/// The SUT's side of a compression step: the corpus, what the compressor made of it, how long and
/// how much CPU it took, and what ran.
package struct CompressResult: WorkloadResult {
    package static let resultKind = "compressSUT"
    /// `xz (XZ Utils) 5.4.1`.
    package var engine: String
    package var command: String
    package var threads: Int
    package var level: Int
    /// The corpus: its size and sha256 (the same seed and size give the same digest everywhere).
    package var inputBytes: Int64
    package var corpusSHA256: String
    /// The compressed stream's size, counted as it went to the pipe.
    package var outputBytes: Int64
    /// Wall time from the start to the compressor's exit, seconds (the step's window).
    package var seconds: Double
    /// The compressor's user and system CPU, seconds.
    package var userSeconds: Double
    package var systemSeconds: Double
    /// What the placement's CPUs looked like.
    package var cpu: CPUView

    package init(
        engine: String, command: String, threads: Int, level: Int, inputBytes: Int64, corpusSHA256: String,
        outputBytes: Int64, seconds: Double, userSeconds: Double, systemSeconds: Double, cpu: CPUView
    ) {
        self.engine = engine
        self.command = command
        self.threads = threads
        self.level = level
        self.inputBytes = inputBytes
        self.corpusSHA256 = corpusSHA256
        self.outputBytes = outputBytes
        self.seconds = seconds
        self.userSeconds = userSeconds
        self.systemSeconds = systemSeconds
        self.cpu = cpu
    }

    /// Input MB (10^6 bytes) per second of wall time.
    package var megabytesPerSecond: Double { seconds > 0 ? Double(inputBytes) / 1e6 / seconds : 0 }
    /// Input bytes over output bytes.
    package var ratio: Double { outputBytes > 0 ? Double(inputBytes) / Double(outputBytes) : 0 }

    package var engineCommand: String? { "\(engine): \(command)" }
}
