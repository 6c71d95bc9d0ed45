/// CPU and memory on the SUT alone: the HPC Challenge suite (Debian's hpcc) under OpenMPI, one rank
/// per CPU of the placement, run to completion; its window is the suite's run.
package enum HpccWorkload: WorkloadType {
    /// The workload's parameters.
    package typealias Spec = HpccSpec

    /// The SUT alone.
    package static let shape = WorkloadShape.sutOnly

    /// HPL's rate.
    package static let hplGflops = Metric(
        "hpl_gflops", unit: "GFLOPS", kind: .gauge, better: .higher,
        help: "HPL (Linpack) double-precision GFLOPS over all ranks, its residual check passed")
    /// HPL's share of the placement's peak.
    package static let hplPeak = Metric(
        "hpl_peak_pct", unit: "%", kind: .gauge, better: .higher,
        help: "HPL's GFLOPS over the placement's peak (CPUs x GHz x double flops per cycle of its widest ISA)")
    /// STREAM over the placement: per-process figure x processes.
    package static let stream: [(kernel: String, metric: Metric)] = ["copy", "scale", "add", "triad"].map { k in
        (
            k,
            Metric(
                "stream_\(k)_gb_per_sec", unit: "GB/s", kind: .gauge, better: .higher,
                help: "STREAM \(k) over the placement: the per-process figure while every rank runs it x the ranks")
        )
    }
    /// STREAM in one process alone.
    package static let streamSingle: [(kernel: String, metric: Metric)] = ["copy", "scale", "add", "triad"].map {
        k in
        (
            k,
            Metric(
                "stream_\(k)_single_gb_per_sec", unit: "GB/s", kind: .gauge, better: .higher,
                help: "STREAM \(k) in one process while the other ranks idle")
        )
    }
    /// RandomAccess over all ranks (MPI).
    package static let randomAccess = Metric(
        "random_access_gups", unit: "GUPS", kind: .gauge, better: .higher,
        help: "RandomAccess giga-updates per second over all ranks (the MPI version)")
    /// RandomAccess in one process.
    package static let randomAccessSingle = Metric(
        "random_access_single_gups", unit: "GUPS", kind: .gauge, better: .higher,
        help: "RandomAccess giga-updates per second in one process")
    /// RandomAccess per process while all run.
    package static let randomAccessStar = Metric(
        "random_access_star_gups", unit: "GUPS", kind: .gauge, better: .higher,
        help: "RandomAccess giga-updates per second per process while every rank runs it")
    /// DGEMM per process while all run.
    package static let dgemm = Metric(
        "dgemm_star_gflops", unit: "GFLOPS", kind: .gauge, better: .higher,
        help: "DGEMM GFLOPS per process while every rank runs it")
    /// The MPI FFT.
    package static let fft = Metric(
        "fft_mpi_gflops", unit: "GFLOPS", kind: .gauge, better: .higher, help: "the MPI FFT's GFLOPS over all ranks")
    /// HPL's wall time.
    package static let hplSeconds = Metric(
        "hpl_seconds", unit: "s", kind: .gauge, better: .lower, help: "HPL's own wall time")

    /// Every metric it reports, and its headline.
    package static let catalog = MetricCatalog(
        [hplGflops, hplPeak, hplSeconds] + stream.map(\.metric) + streamSingle.map(\.metric)
            + [randomAccess, randomAccessSingle, randomAccessStar, dgemm, fft, CommonMetrics.window],
        headline: [hplGflops, hplPeak, stream[3].metric, randomAccess])

    /// The results its sides report.
    package static let resultTypes: [any WorkloadResult.Type] = [HpccResult.self]

    /// N scales with the square root (memory with N^2); the fraction scales as given.
    package static func scaled(_ spec: HpccSpec, by factor: Double) -> HpccSpec {
        var s = spec
        if let n = spec.n { s.n = max(Int(Double(n) * factor.squareRoot()), 100) }
        s.memoryFraction = min(max(spec.memoryFraction * factor, 0.001), 0.9)
        return s
    }

    /// The result the agent in `role` reports.
    package static func resultType(of spec: HpccSpec, role: Role) -> (any WorkloadResult.Type)? {
        role == .sut ? HpccResult.self : nil
    }
}
