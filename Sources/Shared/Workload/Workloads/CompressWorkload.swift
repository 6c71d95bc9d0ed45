/// Parallel compression on the SUT alone: xz (or pixz) over a deterministic corpus, run to
/// completion; its window is the compressor's run.
package enum CompressWorkload: WorkloadType {
    /// The workload's parameters.
    package typealias Spec = CompressSpec

    /// The SUT alone.
    package static let shape = WorkloadShape.sutOnly

    /// Input throughput.
    package static let throughput = Metric(
        "compress_mb_per_sec", unit: "MB/s", kind: .gauge, better: .higher,
        help: "corpus bytes compressed per second of wall time, in 10^6 bytes")
    /// Input over output.
    package static let ratio = Metric(
        "compress_ratio", unit: "ratio", kind: .gauge, better: .neither,
        help: "corpus bytes over compressed bytes (the same in every mode: a check that the work was equal)")
    /// The compressor's CPU.
    package static let cpuSeconds = Metric(
        "compress_cpu_seconds", unit: "s", kind: .counter, better: .lower,
        help: "the compressor's user and system CPU seconds")
    /// CPU per input MB.
    package static let cpuPerMB = Metric(
        "compress_cpu_ms_per_mb", unit: "ms/MB", kind: .gauge, better: .lower,
        help: "the compressor's CPU milliseconds per corpus MB")

    /// Every metric it reports, and its headline.
    package static let catalog = MetricCatalog(
        [throughput, ratio, cpuSeconds, cpuPerMB, CommonMetrics.window], headline: [throughput, cpuPerMB])

    /// The results its sides report.
    package static let resultTypes: [any WorkloadResult.Type] = [CompressResult.self]

    /// The corpus scaled, at least 1 MiB.
    package static func scaled(_ spec: CompressSpec, by factor: Double) -> CompressSpec {
        var s = spec
        s.size = max(Int(Double(spec.size) * factor) / 4096 * 4096, 1 << 20)
        return s
    }

    /// The result the agent in `role` reports.
    package static func resultType(of spec: CompressSpec, role: Role) -> (any WorkloadResult.Type)? {
        role == .sut ? CompressResult.self : nil
    }
}
