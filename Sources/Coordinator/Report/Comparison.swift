import Foundation
import Shared

/// Two runs of the same cells compared, per cell and headline metric: each side's mean, the change
/// in percent, and whether it is significant: Welch's t test over the repetitions where both sides
/// have at least two; where one side has one, whether that value lies outside the other's interval;
/// with one repetition on each side, undecided. Cells whose hosts' provenance fingerprints differ
/// between the runs are flagged.
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
    }

    var rows: [Row]
    /// Cells in only one of the runs.
    var onlyA: [String]
    var onlyB: [String]

    /// Whether a larger value of `metric` is worse.
    static func lowerIsBetter(_ metric: String) -> Bool {
        ["latency", "cpu", "cycles", "lost", "errors", "retransmits"].contains { metric.contains($0) }
    }

    /// The comparison of `b` against `a` at significance `alpha`.
    static func compare(_ a: ReportRun, _ b: ReportRun, alpha: Double = 0.05) -> Comparison {
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
                    worse: lowerIsBetter(metric) ? rb.mean > ra.mean : rb.mean < ra.mean, provenance_differs: differs)
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
                rows.append(row)
            }
        }
        return Comparison(
            rows: rows, onlyA: a.cells.map(\.id).filter { cellsA.contains($0) && !cellsB.contains($0) },
            onlyB: b.cells.map(\.id).filter { cellsB.contains($0) && !cellsA.contains($0) })
    }

    /// The repetitions' summary of a cell's metric (the values aggregates were made from).
    static func summary(_ run: ReportRun, _ cell: String, _ metric: String) -> Statistics.Summary? {
        var seen = Set<String>()
        var values: [Double] = []
        for s in run.samples where s.labels["cell"] == cell && s.metric == metric && s.labels["peer"] == nil {
            guard let step = s.labels["step"], seen.insert(step).inserted else { continue }
            values.append(s.value)
        }
        return Statistics.summary(values, level: run.rule.level)
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
        var table = [["cell", "metric", "A", "B", "change", "significant", "test"]]
        func value(_ mean: Double, _ half: Double?, _ n: Int) -> String {
            String(format: "%.4g", mean) + (half.map { String(format: " ± %.3g", $0) } ?? "") + " (n=\(n))"
        }
        for r in rows {
            table.append([
                r.cell + (r.provenance_differs.isEmpty ? "" : " *"), r.metric,
                value(r.a_mean, r.a_ci_half_width, r.a_n),
                value(r.b_mean, r.b_ci_half_width, r.b_n),
                r.change_pct.map { String(format: "%+.2f%%", $0) } ?? "-",
                r.significant.map { $0 ? (r.worse ? "yes, worse" : "yes, better") : "no" } ?? "undecided",
                r.method + (r.p_value.map { String(format: " p=%.3g", $0) } ?? ""),
            ])
        }
        let widths = table[0].indices.map { c in table.map { $0[c].count }.max() ?? 0 }
        var lines = ["A: \(nameA)", "B: \(nameB)"]
        lines += table.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        lines.append(
            "significant: Welch's t test (two-sided, alpha \(svgNumber(alpha))) where both runs have two or more repetitions; "
                + "with one on a side, whether it lies outside the other's interval; one on each side: undecided")
        if rows.contains(where: { !$0.provenance_differs.isEmpty }) {
            lines.append(
                "* a host's provenance (kernel, CPUs, sysctls, versions) differs between the runs in this cell")
        }
        if !onlyA.isEmpty { lines.append("only in A: \(onlyA.joined(separator: ", "))") }
        if !onlyB.isEmpty { lines.append("only in B: \(onlyB.joined(separator: ", "))") }
        return lines.joined(separator: "\n")
    }
}
