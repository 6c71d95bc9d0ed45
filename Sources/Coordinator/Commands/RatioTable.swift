import Foundation
import Shared

/// The table a run with more than one deployment mode ends with: per workload and point, each
/// headline metric's value in each mode and its ratio to native, read from the steps' metric rows.
enum RatioTable {
    /// `nil` when the run holds one mode only.
    static func render(_ outcomes: [StepOutcome]) -> String? {
        let modes = ordered(outcomes.map(\.plan.placement.mode))
        guard modes.count > 1 else { return nil }
        let others = modes.filter { $0 != .native }
        var header = ["point", "metric"] + modes.map(\.rawValue)
        if modes.contains(.native) { header += others.map { "\($0.rawValue)/native" } }
        var body: [[String]] = []
        // A point is the step without its mode: the workload's step name and its parameters.
        var points: [String] = []
        for o in outcomes where !points.contains(point(o)) { points.append(point(o)) }
        for p in points {
            let steps = outcomes.filter { point($0) == p }
            guard let first = steps.first else { continue }
            for metric in first.workload.metrics.headline {
                var values: [DeploymentMode: Double] = [:]
                var suspect: Set<DeploymentMode> = []
                for o in steps where o.verdict == .suspect { suspect.insert(o.plan.placement.mode) }
                for o in steps {
                    values[o.plan.placement.mode] =
                        o.samples(runID: "").first { $0.metric == metric && $0.labels["kind"] != "interval" }?.value
                }
                guard !values.isEmpty else { continue }
                var row = [first.plan.stepName, metric] + modes.map { values[$0].map(format) ?? "-" }
                if modes.contains(.native) {
                    row += others.map { m in
                        guard let v = values[m], let n = values[.native], n != 0 else { return "-" }
                        // A ratio with a suspect side is no finding: shown, and said so.
                        let flag = suspect.contains(m) || suspect.contains(.native) ? " (suspect)" : ""
                        return String(format: "%.3f", v / n) + flag
                    }
                }
                body.append(row)
            }
        }
        let widths = header.indices.map { c in ([header] + body).map { $0[c].count }.max()! }
        let lines = ([header] + body).map { row in
            row.enumerated().map { c, cell in
                c <= 1
                    ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: "  ")
        }
        let note = Emulation.note(outcomes).map { "\n" + $0 } ?? ""
        return "mode comparison (each mode's value; ratio to native)\n" + lines.joined(separator: "\n") + note
    }

    private static func point(_ o: StepOutcome) -> String {
        o.plan.stepName + " "
            + o.workload.spec.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            .joined(separator: ",")
    }

    private static func format(_ v: Double) -> String {
        abs(v) >= 1000
            ? String(format: "%.0f", v) : abs(v) >= 10 ? String(format: "%.1f", v) : String(format: "%.3f", v)
    }

    private static func ordered(_ modes: [DeploymentMode]) -> [DeploymentMode] {
        var out: [DeploymentMode] = []
        for m in modes where !out.contains(m) { out.append(m) }
        return out
    }
}
