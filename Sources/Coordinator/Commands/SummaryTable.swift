import Foundation
import Shared

/// The tables printed after a run: one per kind of workload in it, each column read from the
/// step's metric rows (the same rows samples.jsonl holds), never computed here.
enum SummaryTable {
    static func render(_ outcomes: [StepOutcome], runID: String = "") -> String {
        var tables: [String] = []
        var kinds: [String] = []
        for o in outcomes where !kinds.contains(o.workload.name) { kinds.append(o.workload.name) }
        for kind in kinds {
            let steps = outcomes.filter { $0.workload.name == kind }
            let columns = steps[0].workload.metrics.columns + [.verdict]
            let body = steps.map { o in
                let rows = o.samples(runID: runID).filter { $0.labels["kind"] != "interval" }
                return columns.map { cell($0, o, rows) }
            }
            tables.append(table(columns.map(\.header), body))
        }
        if let note = Emulation.note(outcomes) { tables[tables.count - 1] += "\n" + note }
        return tables.joined(separator: "\n\n")
    }

    private static func cell(_ column: SummaryColumn, _ o: StepOutcome, _ rows: [MetricSample]) -> String {
        switch column.source {
        case .text(let text): return text(o)
        case .metric(let name, let format, let scale, let percentile):
            guard let row = rows.first(where: { $0.metric == name }) else {
                // A percentile is withheld when its histogram's mean is there but the samples were too few.
                guard let percentile, rows.contains(where: { $0.metric == LatencyMetrics.meanName(of: name) }) else {
                    return "-"
                }
                return "n/a (needs \(ValidityStatistics.samplesNeeded(percentile: percentile)))"
            }
            return String(format: format, row.value / scale)
        }
    }

    private static func table(_ header: [String], _ body: [[String]]) -> String {
        let rows = [header] + body
        let widths = header.indices.map { c in rows.map { $0[c].count }.max()! }
        return rows.map { row in
            row.enumerated().map { c, cell in
                c <= 1
                    ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
