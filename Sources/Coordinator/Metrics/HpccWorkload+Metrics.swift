import Shared

/// CPU and memory: HPL, STREAM (over the placement and single), RandomAccess (MPI, single, star),
/// DGEMM and FFT from the SUT's ``HpccResult``, each labelled with the engine, the ranks and the
/// widest vector ISA the placement showed (`isa`): why an untuned guest is slow.
extension HpccWorkload: WorkloadMetrics {
    static func result(_ o: StepOutcome) -> HpccResult? { o.sut.result.outcome.as(HpccResult.self) }

    static func rows(_ o: StepOutcome, labels: [String: String]) -> [MetricSample] {
        guard let r = result(o) else { return [] }
        var l = labels
        l["engine"] = r.engine
        l["ranks"] = String(r.ranks)
        l["isa"] = r.cpu.isa.rawValue
        l["n"] = String(r.n)
        if let core = r.blasCore { l["blas_core"] = core }
        var out = [hplGflops.sample(r.hplGflops, l), hplSeconds.sample(r.hplSeconds, l)]
        if let peak = r.hplPeakPercent { out.append(hplPeak.sample(peak, l)) }
        let placement = r.streamPlacement
        let single = r.streamSingle
        let values = [
            (placement.copy, single.copy), (placement.scale, single.scale), (placement.add, single.add),
            (placement.triad, single.triad),
        ]
        for (i, (all, one)) in values.enumerated() {
            out += [stream[i].metric.sample(all, l), streamSingle[i].metric.sample(one, l)]
        }
        out += [
            randomAccess.sample(r.randomAccessMPI, l), randomAccessSingle.sample(r.randomAccessSingle, l),
            randomAccessStar.sample(r.randomAccessStar, l), dgemm.sample(r.dgemmStarGflops, l),
            fft.sample(r.fftMPIGflops, l), CommonMetrics.window.sample(o.windowSeconds, l),
        ]
        return out
    }

    static let columns: [SummaryColumn] = [
        .step,
        .text("isa") { result($0)?.cpu.isa.rawValue ?? "-" },
        .text("N x ranks") { result($0).map { "\($0.n) x \($0.ranks)" } ?? "-" },
        .metric("HPL GFLOPS", hplGflops, "%.2f"), .metric("% peak", hplPeak, "%.1f"),
        .metric("triad GB/s", stream[3].metric, "%.1f"), .metric("triad 1p GB/s", streamSingle[3].metric, "%.1f"),
        .metric("RA GUPS", randomAccess, "%.4f"), .metric("s", CommonMetrics.window, "%.1f"),
    ]

    static let figures: [FigureSpec] = [
        .bars(
            .init(
                id: "hpl", title: "Linpack (HPL): GFLOPS and share of peak",
                caption:
                    "hpcc's HPL on the SUT alone, a rank per CPU of the placement, its residual check passed; share of peak = GFLOPS over CPUs x GHz x double flops per cycle of the widest ISA the placement shows (the paper's Fig. 1: an untuned guest hides AVX from the math library). Whiskers: the mean's confidence interval over repetitions.",
                point: { w in w.spec(HpccSpec.self).map { $0.n.map { "N=\($0)" } ?? "N from memory" } ?? "" },
                charts: [
                    .init("HPL", yLabel: "GFLOPS", hplGflops), .init("share of peak", yLabel: "% of peak", hplPeak),
                ],
                table: [hplGflops, hplPeak, hplSeconds])),
        .bars(
            .init(
                id: "stream", title: "STREAM: memory bandwidth",
                caption:
                    "hpcc's STREAM kernels over the placement (the per-process figure while every rank runs it, times the ranks) and in one process alone (the paper's Table 1). Whiskers: the mean's confidence interval over repetitions.",
                point: { w in w.spec(HpccSpec.self).map { $0.n.map { "N=\($0)" } ?? "N from memory" } ?? "" },
                charts: [
                    .init(
                        "over the placement", yLabel: "GB/s",
                        stream.map { (metric: $0.metric, suffix: $0.kernel) }),
                    .init(
                        "one process", yLabel: "GB/s",
                        streamSingle.map { (metric: $0.metric, suffix: $0.kernel) }),
                ],
                table: stream.map(\.metric) + [streamSingle[3].metric])),
        .bars(
            .init(
                id: "random-access", title: "RandomAccess: giga-updates per second",
                caption:
                    "hpcc's RandomAccess over all ranks (MPI), in one process, and per process while all run (the paper's Fig. 2). Whiskers: the mean's confidence interval over repetitions.",
                point: { w in w.spec(HpccSpec.self).map { $0.n.map { "N=\($0)" } ?? "N from memory" } ?? "" },
                charts: [
                    .init("MPI", yLabel: "GUPS", randomAccess),
                    .init("one process", yLabel: "GUPS", randomAccessSingle),
                ],
                table: [randomAccess, randomAccessSingle, randomAccessStar])),
    ]

    static var options: (any WorkloadOptions.Type)? { HpccOptions.self }
}
