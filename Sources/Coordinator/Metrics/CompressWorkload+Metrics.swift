import Shared

/// Compression: throughput, ratio and CPU from the SUT's ``CompressResult``, labelled with the
/// engine and the placement's ISA; the ratio doubles as the check that every mode did the same work.
extension CompressWorkload: WorkloadMetrics {
    static func result(_ o: StepOutcome) -> CompressResult? { o.sut.result.outcome.as(CompressResult.self) }

    static func rows(_ o: StepOutcome, labels: [String: String]) -> [MetricSample] {
        guard let r = result(o) else { return [] }
        var l = labels
        l["engine"] = r.engine
        l["isa"] = r.cpu.isa.rawValue
        let cpu = r.userSeconds + r.systemSeconds
        return [
            throughput.sample(r.megabytesPerSecond, l), ratio.sample(r.ratio, l), cpuSeconds.sample(cpu, l),
            cpuPerMB.sample(r.inputBytes > 0 ? cpu * 1000 / (Double(r.inputBytes) / 1e6) : 0, l),
            CommonMetrics.window.sample(o.windowSeconds, l),
        ]
    }

    static let columns: [SummaryColumn] = [
        .step,
        column("tool") { "\($0.tool.rawValue) -T\($0.threads) -\($0.level)" },
        .text("MiB") { o in spec(o).map { String($0.size >> 20) } ?? "-" },
        .metric("MB/s", throughput, "%.1f"), .metric("ratio", ratio, "%.3f"), .metric("cpu s", cpuSeconds, "%.2f"),
        .metric("cpu ms/MB", cpuPerMB, "%.1f"), .metric("s", CommonMetrics.window, "%.2f"),
    ]

    static let figures: [FigureSpec] = [
        .bars(
            .init(
                id: "compress", title: "Parallel compression",
                caption:
                    "xz over lockstep's deterministic corpus (text-like and binary-like halves, read from the page cache, output counted and discarded), per thread count and level (the paper's Fig. 3: compression throughput). Whiskers: the mean's confidence interval over repetitions.",
                point: { w in w.spec(CompressSpec.self).map { "\($0.tool.rawValue) -T\($0.threads) -\($0.level)" } ?? ""
                },
                charts: [
                    .init("throughput", yLabel: "MB/s", throughput), .init("CPU per MB", yLabel: "ms/MB", cpuPerMB),
                ],
                table: [throughput, cpuPerMB, ratio]))
    ]

    static var options: (any WorkloadOptions.Type)? { CompressOptions.self }
}
