/// One direction (read or write) of a fio job as lockstep keeps it: fio's own rates and latencies,
/// and the completion-latency histogram from fio's bins, in the same mergeable form as every
/// workload's latency.
package struct FioDirectionResult: Codable, Equatable, Sendable {
    package var ioBytes: UInt64
    package var bandwidthBytesPerSec: Double
    package var iops: Double
    /// Milliseconds the direction ran after the ramp.
    package var runtimeMs: UInt64
    package var totalIOs: UInt64
    /// I/Os that moved fewer bytes than asked (a short read or write).
    package var shortIOs: UInt64
    /// Completion latency, nanoseconds: mean, standard deviation, maximum.
    package var clatMeanNs: Double
    package var clatStddevNs: Double
    package var clatMaxNs: Double
    /// Submission and total latency means, nanoseconds.
    package var slatMeanNs: Double
    package var latMeanNs: Double
    /// fio's completion-latency percentiles, nanoseconds, by percent (50, 90, 99, 99.9, 99.99).
    package var clatPercentilesNs: [Double: Double]
    /// The completion latency distribution (fio's json+ bins).
    package var latency: HistogramSnapshot

    package init(_ d: FioReport.Direction) {
        ioBytes = d.ioBytes
        bandwidthBytesPerSec = d.bwBytes
        iops = d.iops
        runtimeMs = d.runtime
        totalIOs = d.totalIOs
        shortIOs = d.shortIOs
        clatMeanNs = d.clat.mean
        clatStddevNs = d.clat.stddev
        clatMaxNs = Double(d.clat.max)
        slatMeanNs = d.slat.mean
        latMeanNs = d.lat.mean
        var percentiles: [Double: Double] = [:]
        for (key, value) in d.clat.percentile ?? [:] {
            if let p = Double(key) { percentiles[p] = Double(value) }
        }
        clatPercentilesNs = percentiles
        var histogram = HistogramSnapshot.makeLatencyHistogram()
        // Counts beyond any real run (2^48 I/Os) are not fio's: left out rather than overflowing the total.
        var total: UInt64 = 0
        for (key, count) in d.clat.bins ?? [:] {
            guard let ns = UInt64(key), count > 0, count < 1 << 48, total < 1 << 56 else { continue }
            total += count
            histogram.record(min(max(ns, 1), HistogramSnapshot.highestLatencyNs), count: count)
        }
        latency = HistogramSnapshot(histogram)
    }
}

/// The SUT's side of a fio step: each direction the job moved, fio's CPU, the device's
/// utilization where fio reports it, the prefill that laid the file out, and what ran.
package struct FioResult: WorkloadResult {
    package static let resultKind = "fioSUT"
    package var read: FioDirectionResult?
    package var write: FioDirectionResult?
    /// fio's threads' CPU, percent of one CPU.
    package var usrCPUPercent: Double
    package var sysCPUPercent: Double
    /// The busiest device's utilization over the run and its name, where fio reports one.
    package var diskUtilPercent: Double?
    package var device: String?
    /// fio's version and the exact command line.
    package var version: String
    package var command: String
    /// Bytes the prefill wrote (checked against the file's size from fio's JSON); 0 when the
    /// session's file was already laid out.
    package var prefillBytes: UInt64

    package init(
        read: FioDirectionResult?, write: FioDirectionResult?, usrCPUPercent: Double, sysCPUPercent: Double,
        diskUtilPercent: Double?, device: String?, version: String, command: String, prefillBytes: UInt64
    ) {
        self.read = read
        self.write = write
        self.usrCPUPercent = usrCPUPercent
        self.sysCPUPercent = sysCPUPercent
        self.diskUtilPercent = diskUtilPercent
        self.device = device
        self.version = version
        self.command = command
        self.prefillBytes = prefillBytes
    }

    /// The result of a step's one job from fio's report, or why the report shows it failed: fio's
    /// error, no job, nothing moved in a direction the pattern asks for, or a short I/O.
    package init(report: FioReport, spec: FioSpec, command: String, prefillBytes: UInt64) throws {
        guard let job = report.jobs.first else { throw FioReportError("fio reported no job") }
        if job.error != 0 { throw FioReportError("fio job \(spec.job.name) failed with error \(job.error)") }
        let read = spec.job.rw.reads ? FioDirectionResult(job.read) : nil
        let write = spec.job.rw.writes ? FioDirectionResult(job.write) : nil
        for (name, d) in [("read", read), ("write", write)] {
            guard let d else { continue }
            if d.totalIOs == 0 { throw FioReportError("fio job \(spec.job.name) did no \(name) I/O") }
            if d.shortIOs > 0 {
                throw FioReportError(
                    "fio job \(spec.job.name): \(d.shortIOs) short \(name)s (the file is shorter than asked?)")
            }
        }
        let busiest = (report.diskUtil ?? []).max { $0.util < $1.util }
        self.init(
            read: read, write: write, usrCPUPercent: job.usrCPU, sysCPUPercent: job.sysCPU,
            diskUtilPercent: busiest?.util, device: busiest?.name, version: report.version, command: command,
            prefillBytes: prefillBytes)
    }

    /// `fio-3.33: /usr/bin/fio --name=... ...`.
    package var engineCommand: String? { "\(version): \(command)" }

    /// I/Os completed in the window, both directions.
    package var completions: UInt64? { (read?.totalIOs ?? 0) + (write?.totalIOs ?? 0) }
}
