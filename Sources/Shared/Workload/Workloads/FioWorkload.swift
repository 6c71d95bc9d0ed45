/// Block I/O on the SUT alone: one fio job (Debian's fio, the canonical engine) against a file in
/// the step's storage placement, started at the step's instant; its window is fio's own runtime.
package enum FioWorkload: WorkloadType {
    /// The workload's parameters.
    package typealias Spec = FioSpec

    /// The SUT alone; its data lives in the step's storage placement.
    package static let shape: WorkloadShape = {
        var shape = WorkloadShape.sutOnly
        shape.usesStorage = true
        return shape
    }()

    /// I/Os per second in the direction (fio's own figure over its runtime).
    package static let iops = Metric(
        "iops", unit: "IO/s", kind: .gauge, better: .higher, help: "I/Os per second in the direction")
    /// Bandwidth in the direction, MB/s (10^6 bytes).
    package static let bandwidth = Metric(
        "bandwidth_mb_per_sec", unit: "MB/s", kind: .gauge, better: .higher,
        help: "bytes per second in the direction, in 10^6 bytes")
    /// Bytes moved in the direction.
    package static let ioBytes = Metric(
        "io_bytes", unit: "bytes", kind: .counter, better: .neither, help: "bytes moved in the direction")
    /// Completion latency from fio's histogram: mean, percentiles, maximum.
    package static let clat = LatencyMetrics(
        unit: "us", percentiles: [("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9), ("p9999", 99.99)],
        of: "an I/O's completion", prefix: "clat")
    /// The completion latency's standard deviation.
    package static let clatStddev = Metric(
        "clat_stddev_us", unit: "us", kind: .histogram, better: .lower,
        help: "standard deviation of an I/O's completion latency")
    /// Mean submission latency.
    package static let slatMean = Metric(
        "slat_mean_us", unit: "us", kind: .histogram, better: .lower, help: "mean submission latency of an I/O")
    /// Mean total latency (submission and completion).
    package static let latMean = Metric(
        "lat_mean_us", unit: "us", kind: .histogram, better: .lower, help: "mean total latency of an I/O")
    /// fio's user CPU.
    package static let usrCPU = Metric(
        "fio_usr_cpu_pct", unit: "%", kind: .gauge, better: .lower, help: "fio's user CPU, percent of one CPU")
    /// fio's system CPU.
    package static let sysCPU = Metric(
        "fio_sys_cpu_pct", unit: "%", kind: .gauge, better: .lower, help: "fio's system CPU, percent of one CPU")
    /// The device's utilization where fio reports it.
    package static let diskUtil = Metric(
        "disk_util_pct", unit: "%", kind: .gauge, better: .neither,
        help: "utilization of the busiest device over the run, where fio reports one")
    /// IOPS x mean latency over the queue depth x jobs: about 1 when the queue stayed full.
    package static let littleRatio = Metric(
        "littles_law_ratio", unit: "ratio", kind: .gauge, better: .neither,
        help: "IOPS x mean total latency / (iodepth x numjobs), both directions: about 1 when the queue stayed full")

    /// Every metric it reports, and its headline.
    package static let catalog = MetricCatalog(
        [iops, bandwidth, ioBytes] + clat.all
            + [clatStddev, slatMean, latMean, usrCPU, sysCPU, diskUtil, littleRatio, CommonMetrics.window],
        headline: [iops, bandwidth, clat.percentiles[2].metric, CommonMetrics.hostCPUPerOp])

    /// The results its sides report.
    package static let resultTypes: [any WorkloadResult.Type] = [FioResult.self]

    /// The file, and whether fio opens it with O_DIRECT.
    package static func storageNeed(of spec: FioSpec) -> StorageNeed? {
        StorageNeed(bytes: Int64(spec.size), directIO: spec.direct)
    }

    /// The file scaled, at least 64 MiB (or the file's size if smaller) and a block per job.
    package static func scaled(_ spec: FioSpec, by factor: Double) -> FioSpec {
        var s = spec
        let floor = max(min(spec.size, 64 << 20), spec.job.blockSize * spec.job.numjobs)
        s.size = max(Int(Double(spec.size) * factor) / 4096 * 4096, floor)
        return s
    }

    /// The result the agent in `role` reports.
    package static func resultType(of spec: FioSpec, role: Role) -> (any WorkloadResult.Type)? {
        role == .sut ? FioResult.self : nil
    }
}
