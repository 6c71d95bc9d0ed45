import Foundation
import Histogram
import Shared

/// Block I/O: per direction fio's IOPS, bandwidth and latencies, fio's CPU, the device's
/// utilization and Little's law check, from the SUT's ``FioResult``; CPU per I/O comes with every
/// step's CPU rows.
extension FioWorkload: WorkloadMetrics {
    static func result(_ o: StepOutcome) -> FioResult? { o.sut.result.outcome.as(FioResult.self) }

    static func rows(_ o: StepOutcome, labels: [String: String]) -> [MetricSample] {
        guard let r = result(o), let spec = spec(o) else { return [] }
        var out: [MetricSample] = []
        for (direction, d) in [("read", r.read), ("write", r.write)] {
            guard let d else { continue }
            var l = labels
            l["direction"] = direction
            out += [
                iops.sample(d.iops, l), bandwidth.sample(d.bandwidthBytesPerSec / 1e6, l),
                ioBytes.sample(Double(d.ioBytes), l), clat.mean.sample(d.clatMeanNs / 1000, l),
            ]
            out += clat.percentiles.compactMap { metric, p in
                d.clatPercentilesNs[p].map { metric.sample($0 / 1000, l) }
            }
            out += [
                clat.max.sample(d.clatMaxNs / 1000, l), clatStddev.sample(d.clatStddevNs / 1000, l),
                slatMean.sample(d.slatMeanNs / 1000, l), latMean.sample(d.latMeanNs / 1000, l),
            ]
        }
        var l = labels
        let ratio = littlesLaw(r, spec)
        if let ratio, !(0.5...1.5).contains(ratio) { l["littles_law"] = "off" }
        out += [usrCPU.sample(r.usrCPUPercent, l), sysCPU.sample(r.sysCPUPercent, l)]
        if let util = r.diskUtilPercent {
            var d = l
            d["device"] = r.device
            out.append(diskUtil.sample(util, d))
        }
        if let ratio { out.append(littleRatio.sample(ratio, l)) }
        out.append(CommonMetrics.window.sample(o.windowSeconds, l))
        return out
    }

    /// Little's law over both directions: the I/Os in flight (IOPS x mean total latency) over the
    /// queue fio was asked to keep (iodepth x numjobs); far from 1 when the queue did not fill.
    static func littlesLaw(_ r: FioResult, _ spec: FioSpec) -> Double? {
        let directions = [r.read, r.write].compactMap { $0 }
        let inFlight = directions.map { $0.iops * $0.latMeanNs / 1e9 }.reduce(0, +)
        let asked = Double(spec.job.iodepth * spec.job.numjobs)
        return directions.isEmpty || asked == 0 ? nil : inFlight / asked
    }

    static let columns: [SummaryColumn] = [
        .step,
        column("job") { $0.job.name },
        .text("storage") { o in o.sut.result.outcome.as(FioResult.self) == nil ? "-" : (o.modeLabels["storage"] ?? "-")
        },
        .metric("IOPS", iops, "%.0f"), .metric("MB/s", bandwidth, "%.1f"), .metric("clat mean us", clat.mean),
        .metric("p50 us", clat.percentiles[0].metric), .metric("p99 us", clat.percentiles[2].metric),
        .metric("p99.9 us", clat.percentiles[3].metric), .metric("Little", littleRatio, "%.2f"), .sutCPU,
        .metric("host us/IO", CommonMetrics.hostCPUPerOp, "%.2f"),
    ]

    /// The read direction's completion latency (the write's for a job that only writes).
    static func latency(_ o: StepOutcome) -> Histogram<UInt64>? {
        guard let r = result(o), let d = r.read ?? r.write else { return nil }
        return d.latency.histogram()
    }

    static let figures: [FigureSpec] = [
        .bars(
            .init(
                id: "fio", title: "Block I/O: IOPS and bandwidth per job",
                caption:
                    "fio on the SUT alone, each job time based after a ramp, per storage placement and mode (the paper's Figs. 4-6 and Table 3); whiskers: the mean's confidence interval over repetitions. A mixed job's figures are its reads'.",
                point: { $0.spec(FioSpec.self)?.job.name ?? "" },
                charts: [.init("IOPS", yLabel: "I/O per second", iops), .init("bandwidth", yLabel: "MB/s", bandwidth)],
                table: [iops, bandwidth, clat.percentiles[2].metric, CommonMetrics.hostCPUPerOp])),
        .percentiles(
            .init(
                id: "fio-percentiles", title: "Block I/O: completion latency by percentile",
                caption:
                    "Each mode's completion latency by percentile from fio's histogram (json+ bins; the first repetition of each cell), on a logarithmic latency axis.",
                point: { $0.spec(FioSpec.self)?.job.name ?? "" })),
    ]

    static var options: (any WorkloadOptions.Type)? { FioOptions.self }
}
