import Foundation
import Shared

/// Two runs of the same cells compared, per cell and headline metric: each side's mean, the change
/// in percent, and whether it is significant: Welch's t test over the repetitions where both sides
/// have at least two; where one side has one, whether that value lies outside the other's interval;
/// with one repetition on each side, undecided. Beside Welch, the Mann-Whitney U test (benchmark
/// values are rarely normal) and the minimum detectable change at the runs' n and spread. Cells whose
/// hosts' provenance fingerprints differ are flagged, and every row says when the two runs' testbeds
/// (their machines) differ.
struct Comparison {
    struct Row: Codable, Equatable, Sendable {
        var cell: String
        var metric: String
        var unit: String
        var a_mean: Double
        var a_ci_half_width: Double?
        var a_n: Int
        var b_mean: Double
        var b_ci_half_width: Double?
        var b_n: Int
        /// (B - A) / A, percent; `nil` when A is 0.
        var change_pct: Double?
        /// `nil`: cannot be decided (one repetition on each side).
        var significant: Bool?
        /// `welch`, `interval` or `one repetition each`.
        var method: String
        var p_value: Double?
        /// The change goes the wrong way for this metric (lower latency, CPU and loss are better).
        var worse: Bool
        /// Hosts whose provenance fingerprint differs between the two runs in this cell.
        var provenance_differs: [String]
        /// Mann-Whitney U's two-sided p-value, its method (`exact`, `normal`) and the smallest p-value
        /// the two sample sizes allow; `nil` with one repetition on each side.
        var mann_whitney_p: Double?
        var mann_whitney_method: String?
        var mann_whitney_smallest_p: Double?
        /// The smallest change of the mean Welch's test would find with 80% power at these n and
        /// spreads, in the metric's unit and in percent of A's mean; `nil` below two repetitions a side.
        var min_detectable_change: Double?
        var min_detectable_change_pct: Double?
        /// The runs' testbed fingerprints differ (other machines): the change may be the hardware's.
        var testbed_differs: Bool
        /// The change's interval contains 0 (not significant): the runs differ by no more than their noise.
        var within_noise: Bool?
        /// Steps of the cell whose verdict is `suspect`, in A and in B (their values are flagged, not dropped).
        var a_suspect: Int = 0
        var b_suspect: Int = 0
    }

    var rows: [Row]
    /// Cells in only one of the runs.
    var onlyA: [String]
    var onlyB: [String]

    /// Whether a larger value of `metric` is worse, by its name (for a name no catalog declares).
    static func lowerIsBetter(_ metric: String) -> Bool {
        ["latency", "cpu", "cycles", "lost", "errors", "retransmits"].contains { metric.contains($0) }
    }

    /// Which way `metric` is better: its catalog's word, else by its name.
    static func better(_ metric: String) -> Metric.Better {
        Metric.named(metric)?.better ?? (lowerIsBetter(metric) ? .lower : .higher)
    }

    /// Whether `b` is worse than `a` for `metric` (never for a metric that is neither better higher nor lower).
    static func isWorse(_ b: Double, than a: Double, _ metric: String) -> Bool {
        better(metric).isWorse(b, than: a)
    }

    /// The comparison of `b` against `a` at significance `alpha`.
    static func compare(_ a: ReportRun, _ b: ReportRun, alpha: Double = 0.05) -> Comparison {
        let testbedDiffers = Self.testbedsDiffer(a, b)
        let cellsA = Set(a.aggregates.map(\.cell))
        let cellsB = Set(b.aggregates.map(\.cell))
        var rows: [Row] = []
        for cell in a.cells where cellsB.contains(cell.id) && cellsA.contains(cell.id) {
            let differs = provenanceDifferences(a, b, cell: cell.id)
            for metric in cell.step.workload.metrics.headline {
                guard let ra = a.aggregate(cell.id, metric), let rb = b.aggregate(cell.id, metric),
                    let sa = summary(a, cell.id, metric), let sb = summary(b, cell.id, metric)
                else { continue }
                var row = Row(
                    cell: cell.id, metric: metric, unit: ra.unit, a_mean: ra.mean, a_ci_half_width: ra.ci_half_width,
                    a_n: ra.n, b_mean: rb.mean, b_ci_half_width: rb.ci_half_width, b_n: rb.n,
                    change_pct: ra.mean != 0 ? (rb.mean - ra.mean) / abs(ra.mean) * 100 : nil, significant: nil,
                    method: "one repetition each", p_value: nil,
                    worse: Self.isWorse(rb.mean, than: ra.mean, metric), provenance_differs: differs,
                    testbed_differs: testbedDiffers)
                if sa.n > 1 || sb.n > 1,
                    let mw = Statistics.mannWhitney(values(a, cell.id, metric), values(b, cell.id, metric))
                {
                    row.mann_whitney_p = mw.p
                    row.mann_whitney_method = mw.method
                    row.mann_whitney_smallest_p = mw.smallestP
                }
                if let mdc = Statistics.minimumDetectableChange(sa, sb, alpha: alpha) {
                    row.min_detectable_change = mdc
                    row.min_detectable_change_pct = ra.mean != 0 ? mdc / abs(ra.mean) * 100 : nil
                }
                if let test = Statistics.welch(sa, sb) {
                    row.method = "welch"
                    row.p_value = test.p
                    row.significant = test.p < alpha
                } else if sa.n > 1 || sb.n > 1 {
                    // One side is a single value: significant when it lies outside the other's interval.
                    let (single, other, otherRow) = sa.n == 1 ? (sa, sb, rb) : (sb, sa, ra)
                    row.method = "interval"
                    if let half = otherRow.ci_half_width {
                        row.significant = abs(single.mean - other.mean) > half
                    }
                }
                row.within_noise = row.significant.map { !$0 }
                row.a_suspect = suspectSteps(a, cell.id)
                row.b_suspect = suspectSteps(b, cell.id)
                rows.append(row)
            }
        }
        return Comparison(
            rows: rows, onlyA: a.cells.map(\.id).filter { cellsA.contains($0) && !cellsB.contains($0) },
            onlyB: b.cells.map(\.id).filter { cellsB.contains($0) && !cellsA.contains($0) })
    }

    /// The repetitions' summary of a cell's metric (the values aggregates were made from).
    static func summary(_ run: ReportRun, _ cell: String, _ metric: String) -> Statistics.Summary? {
        Statistics.summary(values(run, cell, metric), level: run.rule.level)
    }

    /// A cell's metric in each repetition (one value per step).
    static func values(_ run: ReportRun, _ cell: String, _ metric: String) -> [Double] {
        var seen = Set<String>()
        var values: [Double] = []
        for s in run.samples where s.labels["cell"] == cell && s.metric == metric && s.labels["peer"] == nil {
            guard let step = s.labels["step"], seen.insert(step).inserted else { continue }
            values.append(s.value)
        }
        return values
    }

    /// The steps of a cell whose samples carry the verdict `suspect`.
    static func suspectSteps(_ run: ReportRun, _ cell: String) -> Int {
        Set(
            run.samples.filter { $0.labels["cell"] == cell && $0.labels["verdict"] == "suspect" }.compactMap {
                $0.labels["step"]
            }
        )
        .count
    }

    /// Whether the two runs' testbed fingerprints (their agents' machines) differ.
    static func testbedsDiffer(_ a: ReportRun, _ b: ReportRun) -> Bool {
        guard let ia = a.info, let ib = b.info else { return false }
        return Testbed(ia).fingerprint != Testbed(ib).fingerprint
    }

    /// Hosts whose fingerprint in `cell` differs between the runs.
    static func provenanceDifferences(_ a: ReportRun, _ b: ReportRun, cell: String) -> [String] {
        func digests(_ run: ReportRun) -> [String: Set<String>] {
            var out: [String: Set<String>] = [:]
            for s in run.samples where s.labels["cell"] == cell {
                for (host, digest) in ProvenanceLabel(label: s.labels[ProvenanceLabel.key]).digests {
                    out[host, default: []].insert(digest)
                }
            }
            return out
        }
        let da = digests(a)
        let db = digests(b)
        return da.keys.filter { db[$0] != nil && db[$0] != da[$0] }.sorted()
    }

    /// The rows that fail `--fail-on-regression PCT`: significant, worse, by more than `pct` percent.
    func regressions(over pct: Double) -> [Row] {
        rows.filter { $0.significant == true && $0.worse && abs($0.change_pct ?? 0) > pct }
    }

    /// The terminal table.
    func text(nameA: String, nameB: String, alpha: Double) -> String {
        var table = [["cell", "metric", "A", "B", "change", "significant", "test", "mann-whitney", "detectable"]]
        func value(_ mean: Double, _ half: Double?, _ n: Int) -> String {
            String(format: "%.4g", mean) + (half.map { String(format: " ± %.3g", $0) } ?? "") + " (n=\(n))"
        }
        for r in rows {
            let verdict =
                r.significant.map { $0 ? (r.worse ? "yes, worse" : "yes, better") : "within noise" } ?? "undecided"
            let welch: String = r.method + (r.p_value.map { String(format: " p=%.3g", $0) } ?? "")
            var mannWhitney = "-"
            if let p = r.mann_whitney_p {
                mannWhitney = String(format: "p=%.3g", p) + " (\(r.mann_whitney_method ?? ""))"
            }
            let detectable: String = r.min_detectable_change_pct.map { String(format: "%.2g%%", $0) } ?? "-"
            var row: [String] = [
                r.cell + (r.provenance_differs.isEmpty ? "" : " *"), r.metric,
                value(r.a_mean, r.a_ci_half_width, r.a_n), value(r.b_mean, r.b_ci_half_width, r.b_n),
                r.change_pct.map { String(format: "%+.2f%%", $0) } ?? "-", verdict, welch, mannWhitney, detectable,
            ]
            if r.a_suspect + r.b_suspect > 0 { row.append("SUSPECT STEPS A:\(r.a_suspect) B:\(r.b_suspect)") }
            if r.testbed_differs { row.append("OTHER TESTBED") }
            table.append(row)
        }
        var lines = ["A: \(nameA)", "B: \(nameB)", CLI.columns(table)]
        lines.append(
            "significant: Welch's t test (two-sided, alpha \(svgNumber(alpha))) where both runs have two or more repetitions; "
                + "with one on a side, whether it lies outside the other's interval; one on each side: undecided; "
                + "'within noise': the change's interval contains 0")
        if rows.contains(where: { $0.a_suspect + $0.b_suspect > 0 }) {
            lines.append(
                "SUSPECT STEPS: steps of the cell whose checks failed (see `lockstep check`): their values are in the means"
            )
        }
        lines.append(
            "mann-whitney: the Mann-Whitney U test's two-sided p (exact without ties up to 8 a side, else normal); "
                + "'-' with one repetition on each side")
        if rows.contains(where: { ($0.mann_whitney_smallest_p ?? 0) > alpha }) {
            lines.append(
                "  at these repetition counts Mann-Whitney cannot go below p=\(String(format: "%.3g", rows.compactMap(\.mann_whitney_smallest_p).max() ?? 1)): run more repetitions for it to decide"
            )
        }
        lines.append(
            "detectable: the smallest change of the mean Welch's test finds with 80% power at these n and spreads, "
                + "in percent of A; '-' below two repetitions a side")
        if rows.contains(where: \.testbed_differs) {
            lines.append(
                "OTHER TESTBED: the runs ran on different machines (testbed fingerprints differ): every row compares hardware too"
            )
        }
        if rows.contains(where: { !$0.provenance_differs.isEmpty }) {
            lines.append(
                "* a host's provenance (kernel, CPUs, sysctls, versions) differs between the runs in this cell")
        }
        if !onlyA.isEmpty { lines.append("only in A: \(onlyA.joined(separator: ", "))") }
        if !onlyB.isEmpty { lines.append("only in B: \(onlyB.joined(separator: ", "))") }
        return lines.joined(separator: "\n")
    }
}
