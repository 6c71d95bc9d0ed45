import Shared

/// fio's command lines for a step, as values: the prefill that lays the file out (a sequential
/// write of the whole file, checked from its JSON), and the step's one job, time based with the
/// step's warm-up as fio's ramp.
enum FioCommandLine {
    /// fio's duration spelling: whole milliseconds (`2500ms`).
    static func duration(_ ns: Int64) -> String { "\(max(ns / 1_000_000, 0))ms" }

    /// The options every fio run of the step shares.
    static func common(_ spec: FioSpec, file: String, output: String) -> [String] {
        [
            "--filename=\(file)", "--size=\(spec.size)", "--ioengine=\(spec.ioengine.rawValue)",
            "--direct=\(spec.direct ? 1 : 0)", "--thread", "--output-format=json+", "--output=\(output)",
        ]
    }

    /// Writes the whole file once, sequentially in 1 MiB blocks at QD16, before the step.
    static func prefill(_ spec: FioSpec, file: String, output: String) -> [String] {
        ["--name=prefill", "--rw=write", "--bs=1m", "--iodepth=16", "--numjobs=1"]
            + common(spec, file: file, output: output)
    }

    /// The step's job: warm-up as `ramp_time`, the window as `runtime`, time based, its jobs reported
    /// as one group.
    static func job(_ spec: FioSpec, timing: StepTiming, file: String, output: String) -> [String] {
        var args = [
            "--name=\(spec.job.name)", "--rw=\(spec.job.rw.rawValue)", "--bs=\(spec.job.blockSize)",
            "--iodepth=\(spec.job.iodepth)", "--numjobs=\(spec.job.numjobs)", "--group_reporting", "--time_based",
            "--ramp_time=\(duration(timing.warmupNs))", "--runtime=\(duration(timing.durationNs))",
        ]
        if let mix = spec.job.readPercent { args.append("--rwmixread=\(mix)") }
        return args + common(spec, file: file, output: output)
    }
}
