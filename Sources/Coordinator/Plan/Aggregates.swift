import Foundation
import Shared

/// One row of `aggregates.jsonl` (and of a plan's `summary.csv`): a cell's metric over its repetitions.
struct AggregateRow: Codable, Equatable, Sendable {
    var cell: String
    var workload: String
    var mode: String
    var metric: String
    var unit: String
    /// Whether this is the metric the stopping rule reads.
    var headline: Bool
    var n: Int
    var mean: Double
    var stddev: Double
    var median: Double
    var min: Double
    var max: Double
    /// Confidence level of the interval (0.95, 0.99).
    var ci_level: Double
    /// Half-width of the Student-t interval; absent below two repetitions.
    var ci_half_width: Double?
    /// The whole interval as a percentage of the mean (netperf's width).
    var ci_width_pct: Double?
    /// Whether the interval is within the plan's width.
    var confidence_met: Bool
    /// The same cell in native mode, and this cell's mean over it with the ratio's interval.
    var native_cell: String?
    var ratio_to_native: Double?
    var ratio_ci_low: Double?
    var ratio_ci_high: Double?
    var ratio_method: String?
    /// The cell's parameters (the workload spec's labels).
    var labels: [String: String]
    /// Hosts whose provenance fingerprint differed between the cell's repetitions; absent when none did.
    var provenance_changed: [String]?
    /// A `kvm` cell's accelerator (`tcg`: emulated, not a performance result); absent elsewhere.
    var accel: String?
    /// Repetitions of the cell whose verdict was `suspect` (their values are in the summary); absent when none.
    var suspect_steps: Int?
}

/// A plan's aggregates: for every cell and metric, the repetitions' summary and confidence interval,
/// and against the cell's native counterpart the ratio with its interval.
enum Aggregates {
    /// The rows for `cells` (in plan order) from the step samples of `samples`.
    static func rows(samples: [MetricSample], cells: [PlanFile.Cell], rule: RepetitionRule) -> [AggregateRow] {
        // cell -> metric -> values in repetition order; the unit per cell and metric (a unit belongs to
        // a workload's metric, not to a name: RR's and MySQL's transactions_per_sec differ); metrics
        // in first-seen order.
        var values: [String: [String: [Double]]] = [:]
        var units: [String: [String: String]] = [:]
        var seen = Set<String>()
        var order: [String: [String]] = [:]
        // cell -> host -> the provenance fingerprints its repetitions carried.
        var fingerprints: [String: [String: Set<String>]] = [:]
        var accels: [String: Set<String>] = [:]
        var suspect: [String: Set<String>] = [:]
        for sample in samples where sample.labels["kind"] != "interval" {
            guard let cell = sample.labels["cell"], let step = sample.labels["step"] else { continue }
            if sample.labels["verdict"] == Verdict.suspect.rawValue { suspect[cell, default: []].insert(step) }
            if let accel = sample.labels["accel"] { accels[cell, default: []].insert(accel) }
            for (host, digest) in ProvenanceLabel(label: sample.labels[ProvenanceLabel.key]).digests {
                fingerprints[cell, default: [:]][host, default: []].insert(digest)
            }
            // One value per step and metric: the first (a metric reported per host comes once per role).
            let key = "\(step)\u{1}\(sample.metric)"
            guard seen.insert(key).inserted else { continue }
            if units[cell]?[sample.metric] == nil { units[cell, default: [:]][sample.metric] = sample.unit }
            if values[cell]?[sample.metric] == nil { order[cell, default: []].append(sample.metric) }
            values[cell, default: [:]][sample.metric, default: []].append(sample.value)
        }
        let native = nativeCounterparts(cells)
        var rows: [AggregateRow] = []
        for cell in cells {
            guard let metrics = values[cell.id] else { continue }
            let headline = cell.step.workload.metrics.headline.first
            for metric in order[cell.id] ?? [] {
                guard let summary = Statistics.summary(metrics[metric]!, level: rule.level) else { continue }
                var row = AggregateRow(
                    cell: cell.id, workload: cell.step.workload.name, mode: cell.step.placement.mode.rawValue,
                    metric: metric, unit: units[cell.id]?[metric] ?? "", headline: metric == headline, n: summary.n,
                    mean: summary.mean, stddev: summary.standardDeviation, median: summary.median,
                    min: summary.minimum, max: summary.maximum, ci_level: rule.level, ci_half_width: summary.halfWidth,
                    ci_width_pct: summary.widthPercent, confidence_met: summary.meets(widthPercent: rule.widthPercent),
                    labels: cell.step.workload.spec.labels)
                row.accel = accels[cell.id].map { $0.sorted().joined(separator: ",") }
                row.suspect_steps = suspect[cell.id]?.count
                let changed = (fingerprints[cell.id] ?? [:]).filter { $0.value.count > 1 }.keys.sorted()
                if !changed.isEmpty { row.provenance_changed = changed }
                if let base = native[cell.id], let baseValues = values[base]?[metric],
                    let baseSummary = Statistics.summary(baseValues, level: rule.level),
                    let ratio = Statistics.ratio(summary, over: baseSummary, level: rule.level)
                {
                    row.native_cell = base
                    row.ratio_to_native = ratio.value
                    row.ratio_ci_low = ratio.low
                    row.ratio_ci_high = ratio.high
                    row.ratio_method = Statistics.Ratio.method
                }
                rows.append(row)
            }
        }
        return rows
    }

    /// For each cell not in native mode, the cell with the same step in native mode, if the plan has it.
    static func nativeCounterparts(_ cells: [PlanFile.Cell]) -> [String: String] {
        var out: [String: String] = [:]
        for cell in cells where cell.step.placement.mode != .native {
            var same = cell.step
            same.placement.mode = .native
            same.placement.storage = nil
            if let base = cells.first(where: { $0.step == same }) { out[cell.id] = base.id }
        }
        return out
    }

    /// `summary.csv` of a plan: the rows as comma-separated values.
    static func csv(_ rows: [AggregateRow]) -> String {
        let header = [
            "cell", "workload", "mode", "metric", "unit", "headline", "n", "mean", "stddev", "median", "min", "max",
            "ci_level", "ci_half_width", "ci_width_pct", "confidence_met", "native_cell", "ratio_to_native",
            "ratio_ci_low", "ratio_ci_high", "suspect_steps",
        ]
        func number(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "" }
        var lines = [header.joined(separator: ",")]
        for r in rows {
            lines.append(
                [
                    r.cell, r.workload, r.mode, r.metric, r.unit, String(r.headline), String(r.n), number(r.mean),
                    number(r.stddev), number(r.median), number(r.min), number(r.max), number(r.ci_level),
                    number(r.ci_half_width), number(r.ci_width_pct), String(r.confidence_met), r.native_cell ?? "",
                    number(r.ratio_to_native), number(r.ratio_ci_low), number(r.ratio_ci_high),
                    String(r.suspect_steps ?? 0),
                ].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension AggregateRow {
    /// The ratio to native's interval contains 1: the modes differ by no more than their noise.
    var ratioWithinNoise: Bool {
        guard let low = ratio_ci_low, let high = ratio_ci_high else { return false }
        return low <= 1 && high >= 1
    }

    /// `1.253 [1.201, 1.305]`, `within noise (0.987 [0.921, 1.058])` or `-`, for tables and the report.
    var ratioText: String {
        guard let value = ratio_to_native else { return "-" }
        let text =
            String(format: "%.3f", value)
            + (ratio_ci_low.map { String(format: " [%.3f, %.3f]", $0, ratio_ci_high ?? $0) } ?? "")
        return ratioWithinNoise ? "within noise (\(text))" : text
    }
}
