import Foundation
import Shared

/// One results directory as `lockstep report` and `lockstep compare` read it: run.json, the
/// samples, the cells and their aggregates (a plan's from aggregates.jsonl; any other run's made by
/// the same ``Aggregates`` with each step its own cell), and the latency histograms. What is absent
/// is listed in `missing`, so a partial or empty directory still gives a report of what is there.
struct ReportRun {
    var name: String
    var directory: String
    var info: RunInfo?
    /// Summary rows (no interval rows), each labelled with its `cell`.
    var samples: [MetricSample]
    /// Per-second rows (`kind=interval`).
    var intervals: [MetricSample]
    var cells: [PlanFile.Cell]
    var rule: RepetitionRule
    var aggregates: [AggregateRow]
    /// Each step's latency distribution, percentile (0...100) and value in the histogram's unit (us).
    var histograms: [String: [(percentile: Double, value: Double)]]
    var missing: [String]

    /// The rule of a run that is not a plan: one repetition, 95% intervals where there are several.
    static let singleRule = RepetitionRule(
        minimum: 1, maximum: 1, level: 0.95, widthPercent: 5, shuffle: false, seed: 0, cooldownNs: 0)

    static func load(_ directory: String, name: String) -> ReportRun {
        var run = ReportRun(
            name: name, directory: directory, info: nil, samples: [], intervals: [], cells: [], rule: singleRule,
            aggregates: [], histograms: [:], missing: [])
        guard let data = FileManager.default.contents(atPath: directory + "/run.json") else {
            run.missing.append("\(directory): no run.json (not a lockstep results directory, or the run never began)")
            return run
        }
        guard let info = try? JSONDecoder().decode(RunInfo.self, from: data) else {
            run.missing.append("\(directory)/run.json: unreadable (another lockstep version?)")
            return run
        }
        run.info = info
        run.rule = info.repetition ?? singleRule
        run.cells = (info.plan ?? []).map { PlanFile.Cell(id: $0.id, step: $0.spec) }
        if info.plan == nil { run.missing.append("run.json records no steps' specs (an older lockstep wrote it)") }
        let text = (try? String(contentsOfFile: directory + "/samples.jsonl", encoding: .utf8)) ?? ""
        var all: [MetricSample] = []
        for line in text.split(separator: "\n") {
            guard var sample = try? JSONDecoder().decode(MetricSample.self, from: Data(line.utf8)) else { continue }
            if sample.labels["cell"] == nil, let step = sample.labels["step"] { sample.labels["cell"] = step }
            all.append(sample)
        }
        run.samples = all.filter { $0.labels["kind"] != "interval" }
        run.intervals = all.filter { $0.labels["kind"] == "interval" }
        if all.isEmpty { run.missing.append("no samples yet: no step finished") }
        let unfinished = info.steps.filter { $0.status != .complete }
        for step in unfinished {
            run.missing.append("step \(step.id): \(step.status)" + (step.error.map { " (\($0))" } ?? ""))
        }
        if info.status != .complete {
            run.missing.append("the run is \(info.status)" + (info.error.map { ": \($0)" } ?? ""))
        }
        // A plan's aggregates as the run wrote them; any other run's made by the same code now.
        let written = ((try? String(contentsOfFile: directory + "/aggregates.jsonl", encoding: .utf8)) ?? "")
            .split(separator: "\n").compactMap { try? JSONDecoder().decode(AggregateRow.self, from: Data($0.utf8)) }
        run.aggregates =
            info.repetition != nil && !written.isEmpty
            ? written : Aggregates.rows(samples: run.samples, cells: run.cells, rule: run.rule)
        let folder = directory + "/histograms"
        for file in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where file.hasSuffix(".hgrm") {
            guard let text = try? String(contentsOfFile: folder + "/" + file, encoding: .utf8) else { continue }
            run.histograms[String(file.dropLast(".hgrm".count))] = Self.percentiles(hgrm: text)
        }
        return run
    }

    /// The (percentile, value) rows of an HdrHistogram percentile distribution.
    static func percentiles(hgrm text: String) -> [(percentile: Double, value: Double)] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, let value = Double(fields[0]), let p = Double(fields[1]), p < 1 else { return nil }
            return (p * 100, value)
        }
    }

    /// The steps of a cell, in the order they ran.
    func steps(of cell: String) -> [String] {
        var out: [String] = []
        for s in samples where s.labels["cell"] == cell {
            if let step = s.labels["step"], !out.contains(step) { out.append(step) }
        }
        return out
    }

    /// The checks that failed in a cell's suspect steps (`step: generator-headroom, quiet-host`);
    /// empty when every step of the cell is valid or was recorded before verdicts.
    func suspect(_ cell: String) -> [String] {
        let steps = Set(steps(of: cell))
        return (info?.steps ?? []).filter { steps.contains($0.id) && $0.verdict == .suspect }.map { step in
            "\(step.id): " + (step.checks ?? []).filter { !$0.passed }.map(\.summary).joined(separator: "; ")
        }
    }

    /// The headline metrics' aggregates of a workload, by cell and metric.
    func aggregate(_ cell: String, _ metric: String) -> AggregateRow? {
        aggregates.first { $0.cell == cell && $0.metric == metric }
    }

    /// Distinct names for directories: their last path components, numbered where two are equal.
    static func names(_ directories: [String]) -> [String] {
        let bases = directories.map { URL(fileURLWithPath: $0).standardizedFileURL.lastPathComponent }
        return bases.enumerated().map { i, base in
            bases.filter { $0 == base }.count > 1 ? "\(base) (\(i + 1))" : base
        }
    }
}
