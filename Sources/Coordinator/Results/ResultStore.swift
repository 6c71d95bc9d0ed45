import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// The run directory. Every file is written as soon as its data exists: samples are appended and
/// flushed as each step ends; whole files are written to a temporary name and renamed.
final class ResultStore {
    let directory: String

    /// Creates the directory (and `histograms/`); refuses one that already holds a run.
    init(directory: String) throws {
        self.directory = directory
        let fm = FileManager.default
        if fm.fileExists(atPath: "\(directory)/run.json") {
            throw ResultsError(
                "\(directory) already holds a run (run.json exists); choose another --out or --resume it")
        }
        do {
            try fm.createDirectory(atPath: "\(directory)/histograms", withIntermediateDirectories: true)
            try fm.createDirectory(atPath: "\(directory)/checks", withIntermediateDirectories: true)
        } catch {
            throw ResultsError("cannot create results directory \(directory): \(error.localizedDescription)")
        }
    }

    /// Opens a run directory to continue: reads its `run.json` and drops everything of steps that
    /// did not finish (their samples and histograms), so they can run again without duplicates.
    init(resuming directory: String) throws {
        self.directory = directory
        let path = "\(directory)/run.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ResultsError("\(directory) holds no run to resume (no run.json)")
        }
        do {
            info = try JSONDecoder().decode(RunInfo.self, from: data)
        } catch {
            throw ResultsError("cannot read \(path): \(error)")
        }
        let finished = Set(info!.steps.filter { $0.status == .complete }.map(\.id))
        try keepSamples(ofSteps: finished)
        let histograms = "\(directory)/histograms"
        try? FileManager.default.createDirectory(atPath: histograms, withIntermediateDirectories: true)
        try? FileManager.default.createDirectory(atPath: "\(directory)/checks", withIntermediateDirectories: true)
        for file in (try? FileManager.default.contentsOfDirectory(atPath: histograms)) ?? []
        where !finished.contains(String(file.dropLast(".hgrm".count))) {
            try? FileManager.default.removeItem(atPath: "\(histograms)/\(file)")
        }
    }

    /// Opens a finished run directory to read (and rewrite its summaries).
    init(reading directory: String) throws {
        self.directory = directory
        guard FileManager.default.fileExists(atPath: "\(directory)/run.json") else {
            throw ResultsError("\(directory) holds no run (no run.json)")
        }
    }

    /// The `run.json` found when resuming.
    private(set) var info: RunInfo?

    /// Rewrites `samples.jsonl` with only the lines of `steps` (a torn last line goes too).
    private func keepSamples(ofSteps steps: Set<String>) throws {
        let path = "\(directory)/samples.jsonl"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        var kept = Data()
        for line in text.split(separator: "\n") {
            guard let sample = try? JSONDecoder().decode(MetricSample.self, from: Data(line.utf8)),
                let step = sample.labels["step"], steps.contains(step)
            else { continue }
            kept.append(Data(line.utf8))
            kept.append(0x0A)
        }
        try replace("samples.jsonl", with: kept)
    }

    /// Every sample written so far, in order.
    func samples() throws -> [MetricSample] {
        guard let text = try? String(contentsOfFile: "\(directory)/samples.jsonl", encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { try JSONDecoder().decode(MetricSample.self, from: Data($0.utf8)) }
    }

    /// The lines of `merged-log.jsonl` written so far (a resumed run adds to them).
    func mergedLogLines() -> [Data] {
        guard let data = FileManager.default.contents(atPath: "\(directory)/merged-log.jsonl") else { return [] }
        return data.split(separator: 0x0A).map { Data($0) }
    }

    /// Writes `run.json`.
    func writeRunInfo(_ info: RunInfo) throws {
        try replace("run.json", with: Self.json(info, pretty: true))
    }

    /// Appends samples to `samples.jsonl` and syncs the file.
    func append(_ samples: [MetricSample]) throws {
        var data = Data()
        for sample in samples {
            data.append(try Self.json(sample))
            data.append(0x0A)
        }
        let path = "\(directory)/samples.jsonl"
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.ioError("cannot open", path) }
        defer { close(fd) }
        // Whole lines or nothing: a write the disk cut short (full, read-only, quota) is taken back,
        // so the file holds every earlier step's lines and no half of this one's.
        let before = lseek(fd, 0, SEEK_END)
        var offset = 0
        while offset < data.count {
            let n = data.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let failure = Self.ioError("cannot append to", path)
                if before >= 0 { _ = ftruncate(fd, before) }
                throw failure
            }
            offset += n
        }
        guard fsync(fd) == 0 else {
            let failure = Self.ioError("cannot sync", path)
            if before >= 0 { _ = ftruncate(fd, before) }
            throw failure
        }
    }

    /// Writes `histograms/<step>.hgrm`.
    /// Writes `checks/<step>.json`: what the step's validity checks read (``StepEvidence``).
    func writeEvidence(_ evidence: StepEvidence) throws {
        try replace("checks/\(evidence.step).json", with: try Self.json(evidence))
    }

    /// Reads `checks/<step>.json` of the results folder `directory`; `nil` when the step has none
    /// (older versions, failed steps).
    static func evidence(in directory: String, step: String) -> StepEvidence? {
        let url = URL(fileURLWithPath: directory).appendingPathComponent("checks/\(step).json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(StepEvidence.self, from: data)
    }

    func writeHistogram(step: String, text: String) throws {
        try replace("histograms/\(step).hgrm", with: Data(text.utf8))
    }

    /// Writes `summary.csv` from every summary sample in `samples.jsonl`: one row per step, one
    /// column per metric any step has (the first sample of a metric in a step counts).
    func writeSummary() throws {
        var columns: [String] = []
        var rows: [(step: String, workload: String, verdict: String, values: [String: Double])] = []
        for sample in try samples() where sample.labels["kind"] != "interval" {
            guard let step = sample.labels["step"] else { continue }
            if rows.last?.step != step {
                rows.append((step, sample.labels["workload"] ?? "", sample.labels["verdict"] ?? "", [:]))
            }
            if rows[rows.count - 1].values[sample.metric] == nil {
                rows[rows.count - 1].values[sample.metric] = sample.value
                if !columns.contains(sample.metric) { columns.append(sample.metric) }
            }
        }
        // Every percentile a step's workload declares, also where no step had samples enough for it.
        for row in rows {
            guard let type = WorkloadRegistry.type(named: row.workload) else { continue }
            for metric in type.catalog.metrics where metric.percentile != nil && !columns.contains(metric.name) {
                if row.values[LatencyMetrics.meanName(of: metric.name)] != nil { columns.append(metric.name) }
            }
        }
        var lines = [(["step", "workload", "verdict"] + columns).joined(separator: ",")]
        for row in rows {
            let cells = columns.map { name -> String in
                if let value = row.values[name] { return String(format: "%.6g", value) }
                guard let type = WorkloadRegistry.type(named: row.workload),
                    let q = type.catalog.metrics.first(where: { $0.name == name })?.percentile,
                    row.values[LatencyMetrics.meanName(of: name)] != nil
                else { return "" }
                return "n/a (needs \(ValidityStatistics.samplesNeeded(percentile: q)))"
            }
            lines.append(([row.step, row.workload, row.verdict] + cells).joined(separator: ","))
        }
        try replace("summary.csv", with: Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    /// Writes a plan's `aggregates.jsonl` and `summary.csv` (one row per cell and metric) from every
    /// step sample in `samples.jsonl`; returns the rows.
    @discardableResult
    func writeAggregates(rule: RepetitionRule, cells: [PlanFile.Cell]) throws -> [AggregateRow] {
        let rows = Aggregates.rows(samples: try samples(), cells: cells, rule: rule)
        var data = Data()
        for row in rows {
            data.append(try Self.json(row))
            data.append(0x0A)
        }
        try replace("aggregates.jsonl", with: data)
        try replace("summary.csv", with: Data(Aggregates.csv(rows).utf8))
        return rows
    }

    /// Writes `plan.yaml`: the plan file as the run used it.
    func writePlan(_ text: String) throws { try replace("plan.yaml", with: Data(text.utf8)) }

    /// Writes `merged-log.jsonl`: `earlier` lines (from before a resume) and then `lines`.
    func writeMergedLog(_ lines: [MergedLog.Line], after earlier: [Data] = []) throws {
        var data = Data()
        for line in earlier {
            data.append(line)
            data.append(0x0A)
        }
        for line in lines {
            data.append(try Self.json(line))
            data.append(0x0A)
        }
        try replace("merged-log.jsonl", with: data)
    }

    /// Replaces `name` whole: written to a temporary file, synced, renamed over it. On any failure
    /// the temporary file is removed and the old file stays as it was: never half-written.
    private func replace(_ name: String, with data: Data) throws {
        let path = "\(directory)/\(name)"
        let temp = "\(path).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.ioError("cannot write", path) }
        var failure: ResultsError?
        var offset = 0
        while offset < data.count && failure == nil {
            let n = data.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n > 0 { offset += n } else { failure = Self.ioError("cannot write", path) }
        }
        if failure == nil && fsync(fd) != 0 { failure = Self.ioError("cannot write", path) }
        close(fd)
        if failure == nil && rename(temp, path) != 0 { failure = Self.ioError("cannot replace", path) }
        if let failure {
            unlink(temp)
            throw failure
        }
    }

    /// `what path: No space left on device (ENOSPC)` from `errno`.
    private static func ioError(_ what: String, _ path: String) -> ResultsError {
        let code = errno
        let names = [
            ENOSPC: "ENOSPC", EROFS: "EROFS", EDQUOT: "EDQUOT", EACCES: "EACCES", EIO: "EIO", ENOENT: "ENOENT",
            EPERM: "EPERM", EFBIG: "EFBIG", ENOTDIR: "ENOTDIR",
        ]
        let text = String(cString: strerror(code))
        return ResultsError("\(what) \(path): \(text)" + (names[code].map { " (\($0))" } ?? " (errno \(code))"))
    }

    private static func json<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        return try encoder.encode(value)
    }
}
