import Crypto
import Foundation
import Shared

/// What the history keeps of one results directory: the run, its testbed's rows, its cells, every
/// aggregate (one row per cell and metric) and each repetition's headline values.
struct HistoryEntry: Equatable, Sendable {
    /// One cell of the run.
    struct Cell: Codable, Equatable, Sendable {
        var id: String
        var workload: String
        var mode: String
        var labels: [String: String]
        /// The workload's headline metrics, most telling first: the series `regressions` watches.
        var headline: [String]
    }

    /// One repetition's value of a headline metric.
    struct Repetition: Codable, Equatable, Sendable {
        var cell: String
        var step: String
        var metric: String
        var value: Double
    }

    /// `run_id@started_at`: the same run added twice has the same key.
    var key: String
    /// The directory's last path component (`nightly-2026-12-03`).
    var name: String
    var directory: String
    var command: String
    var status: String
    var startedAt: String
    var finishedAt: String?
    var lockstepVersion: String
    var testbed: Testbed
    var cells: [Cell]
    var aggregates: [AggregateRow]
    /// Whether a larger value is better, per metric (`higher`, `lower`, `neither`).
    var better: [String: String]
    var repetitions: [Repetition]
    /// The run's steps whose verdict was `suspect` (kept in the history, and named when it is added).
    var suspectSteps: [String] = []

    /// SHA-256 of everything stored: adding the directory again after a resume stores the new content.
    var contentDigest: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var data = Data([name, directory, command, status, finishedAt ?? ""].joined(separator: "\u{1}").utf8)
        data += (try? encoder.encode(testbed.rows)) ?? Data()
        data += (try? encoder.encode(cells)) ?? Data()
        data += (try? encoder.encode(aggregates)) ?? Data()
        data += (try? encoder.encode(repetitions)) ?? Data()
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}

extension HistoryEntry {
    /// The entry of a loaded results directory; an error when it holds no run or no finished cell.
    init(_ run: ReportRun) throws {
        guard let info = run.info else {
            throw HistoryError(.history, run.missing.first ?? "\(run.directory): not a results directory")
        }
        guard !run.aggregates.isEmpty else {
            throw HistoryError(.history, "\(run.directory): no finished step to keep (the run is \(info.status))")
        }
        key = "\(info.run_id)@\(info.started_at)"
        name = run.name
        directory = URL(fileURLWithPath: run.directory).standardizedFileURL.path
        command = info.command
        status = info.status.rawValue
        startedAt = info.started_at
        finishedAt = info.finished_at
        lockstepVersion = info.lockstep_version
        testbed = Testbed(info)
        let finished = Set(run.aggregates.map(\.cell))
        cells = run.cells.filter { finished.contains($0.id) }.map {
            Cell(
                id: $0.id, workload: $0.step.workload.name, mode: $0.step.placement.mode.rawValue,
                labels: $0.step.workload.spec.labels, headline: $0.step.workload.metrics.headline)
        }
        aggregates = run.aggregates
        var better: [String: String] = [:]
        for row in run.aggregates { better[row.metric] = Comparison.better(row.metric).rawValue }
        self.better = better
        var seen = Set<String>()
        var repetitions: [Repetition] = []
        for cell in cells {
            let metrics = Set(cell.headline)
            for s in run.samples
            where s.labels["cell"] == cell.id && metrics.contains(s.metric) && s.labels["peer"] == nil {
                guard let step = s.labels["step"], seen.insert("\(step)\u{1}\(s.metric)").inserted else { continue }
                repetitions.append(Repetition(cell: cell.id, step: step, metric: s.metric, value: s.value))
            }
        }
        self.repetitions = repetitions
        suspectSteps = info.steps.filter { $0.verdict == .suspect }.map(\.id)
    }

    /// `; 2 suspect step(s) kept: rr-tcp-1, rr-udp-2 (lockstep check DIR)`, or nothing.
    var suspectNote: String {
        suspectSteps.isEmpty
            ? ""
            : "; \(suspectSteps.count) suspect step(s) kept: \(suspectSteps.prefix(5).joined(separator: ", "))"
                + (suspectSteps.count > 5 ? ", ..." : "") + " (lockstep check \(directory))"
    }
}
