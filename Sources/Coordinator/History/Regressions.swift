import Foundation
import Shared

/// The change points of a history: per testbed, cell and headline metric, the series of the runs'
/// means over time, its change points (``ChangePoints``), each one's size and p-value, whether it
/// is a regression for that metric, whether it still holds in the newest runs, and the provenance
/// rows that changed between the run before it and the run at it.
struct Regressions {
    /// One change point of one series.
    struct Change: Codable, Equatable, Sendable {
        var testbed: String
        var cell: String
        var metric: String
        var unit: String
        /// The metric's place among the cell's headline metrics (0: the most telling).
        var headline_rank: Int?
        /// The first run of the new level: its directory name and key.
        var run: String
        var run_key: String
        var started_at: String
        /// Its place in the series (1-based) and the series' length.
        var position: Int
        var runs: Int
        var mean_before: Double
        var mean_after: Double
        var change_pct: Double
        /// After minus before, in the metric's unit.
        var change: Double
        var p_value: Double
        /// Worse for this metric (higher latency or CPU, lower throughput); `false` for a metric
        /// that is neither better higher nor lower.
        var regression: Bool
        /// The newest segment's mean, and whether it is still worse than the level before by more
        /// than the threshold (`--fail-on-regression`, else any amount).
        var latest_mean: Double
        var still_in_effect: Bool
        /// `agent field: old -> new` between the run before and the run at the change.
        var provenance_changed: [String]
    }

    /// A series that was looked at.
    struct Series: Codable, Equatable, Sendable {
        var testbed: String
        var cell: String
        var metric: String
        var runs: Int
        /// Distinct software fingerprints among the runs (more than 1: upgrades within the series).
        var software_versions: Int
        var change_points: Int
    }

    var changes: [Change]
    var series: [Series]
    var testbeds: [String: String]
    var runCount: Int

    /// Which changes `--since` keeps.
    enum Since: Equatable, Sendable {
        case all
        /// Runs started at or after this instant.
        case date(Date)
        /// This run (name or key) and those after it.
        case run(String)

        /// `7d`, `36h`, `90m`, an ISO 8601 date or instant, or a run's directory name or key.
        init(_ text: String, now: Date = Date()) {
            let units: [Character: Double] = ["d": 86400, "h": 3600, "m": 60, "s": 1]
            if let unit = text.last, let scale = units[unit], let n = Double(text.dropLast()), n >= 0 {
                self = .date(now.addingTimeInterval(-n * scale))
            } else if let date = Regressions.parseDate(text) {
                self = .date(date)
            } else {
                self = .run(text)
            }
        }
    }

    /// The analysis of `points` (each run's aggregates) with the testbed rows of each run by id.
    static func analyze(
        _ points: [HistoryStore.Point], testbeds: [Int: Testbed], options: ChangePoints.Options,
        since: Since = .all, failOver threshold: Double? = nil, headlineOnly: Bool = true
    ) -> Regressions {
        var changes: [Change] = []
        var series: [Series] = []
        var summaries: [String: String] = [:]
        for group in Self.series(points, headlineOnly: headlineOnly) {
            let first = group[0]
            summaries[first.run.testbed] = first.run.testbed_summary
            let values = group.map(\.mean)
            let found = ChangePoints.find(values, options: options)
            series.append(
                Series(
                    testbed: first.run.testbed, cell: first.cell, metric: first.metric, runs: group.count,
                    software_versions: Set(group.map(\.run.software)).count, change_points: found.count))
            let latestStart = found.last?.index ?? 0
            let latest = values[latestStart...].reduce(0, +) / Double(values.count - latestStart)
            let firstKept: Int? =
                switch since {
                case .all: 0
                case .date(let date):
                    group.firstIndex { (parseDate($0.run.started_at) ?? .distantPast) >= date }
                case .run(let name): group.firstIndex { $0.run.name == name || $0.run.key == name }
                }
            for point in found where point.index >= (firstKept ?? Int.max) {
                let run = group[point.index].run
                let better = Metric.Better(rawValue: first.better) ?? .neither
                let worse = { (b: Double, a: Double) in better.isWorse(b, than: a) }
                let regression = worse(point.meanAfter, point.meanBefore)
                let latestPct = point.meanBefore == 0 ? 0 : abs(latest / point.meanBefore - 1) * 100
                let still = worse(latest, point.meanBefore) && latestPct > (threshold ?? 0)
                var changed: [String] = []
                if let before = testbeds[group[point.index - 1].run.id], let at = testbeds[run.id] {
                    changed = at.changes(since: before)
                }
                changes.append(
                    Change(
                        testbed: first.run.testbed, cell: first.cell, metric: first.metric, unit: first.unit,
                        headline_rank: first.headlineRank, run: run.name, run_key: run.key, started_at: run.started_at,
                        position: point.index + 1,
                        runs: group.count, mean_before: point.meanBefore, mean_after: point.meanAfter,
                        change_pct: point.changePercent, change: point.meanAfter - point.meanBefore,
                        p_value: point.pValue, regression: regression, latest_mean: latest,
                        still_in_effect: regression && still, provenance_changed: changed))
            }
        }
        // Newest first; within a run, by cell, then the most telling metric first.
        changes.sort {
            if $0.started_at != $1.started_at { return $0.started_at > $1.started_at }
            return ($0.cell, $0.headline_rank ?? Int.max, $0.metric) < ($1.cell, $1.headline_rank ?? Int.max, $1.metric)
        }
        return Regressions(
            changes: changes, series: series, testbeds: summaries, runCount: Set(points.map(\.run.id)).count)
    }

    /// `points` as series: one per testbed, cell and metric, oldest run first, the most telling
    /// headline metrics' series first; only headline metrics with `headlineOnly`.
    static func series(_ points: [HistoryStore.Point], headlineOnly: Bool = true) -> [[HistoryStore.Point]] {
        var order: [String] = []
        var groups: [String: [HistoryStore.Point]] = [:]
        let ranked = points.enumerated().sorted {
            ($0.element.headlineRank ?? Int.max, $0.offset) < ($1.element.headlineRank ?? Int.max, $1.offset)
        }.map(\.element)
        for p in ranked where !headlineOnly || p.headlineRank != nil {
            let key = "\(p.run.testbed)\u{1}\(p.cell)\u{1}\(p.metric)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(p)
        }
        return order.map { groups[$0]! }
    }

    /// The changes that fail `--fail-on-regression PCT`: regressions larger than `pct` percent that
    /// the newest runs still show.
    func failing(over pct: Double) -> [Change] {
        changes.filter { $0.regression && abs($0.change_pct) > pct && $0.still_in_effect }
    }

    /// The terminal text.
    func text(database: String, options: ChangePoints.Options) -> String {
        var lines = [
            "history: \(database): \(runCount) run(s), \(testbeds.count) testbed(s), \(series.count) series; "
                + "change points by E-divisive means as Apache Otava selects them (window \(options.window), "
                + "Student's t test p < \(String(format: "%g", options.maxPValue)) at selection; each p below is "
                + "between the point's final neighbours)"
        ]
        for testbed in testbeds.keys.sorted() {
            lines.append("testbed \(testbed) (\(testbeds[testbed] ?? ""))")
            let mine = changes.filter { $0.testbed == testbed }
            for c in mine {
                let kind = c.regression ? "REGRESSION" : (c.change_pct == 0 ? "change" : "improvement")
                let effect =
                    c.regression
                    ? (c.still_in_effect
                        ? "; still in effect (latest \(Self.number(c.latest_mean)) \(c.unit))"
                        : "; recovered since (latest \(Self.number(c.latest_mean)) \(c.unit))") : ""
                lines.append(
                    "  \(kind) \(c.cell) \(c.metric): at \(c.run) (\(c.started_at), run \(c.position) of \(c.runs)): "
                        + "\(Self.number(c.mean_before)) -> \(Self.number(c.mean_after)) \(c.unit) "
                        + String(
                            format: "(%+.1f%%, %@%@ %@)", c.change_pct, c.change >= 0 ? "+" : "", Self.number(c.change),
                            c.unit)
                        + String(format: ", p=%.2g", c.p_value) + effect)
                lines.append(
                    "    provenance at this change: "
                        + (c.provenance_changed.isEmpty ? "unchanged" : c.provenance_changed.joined(separator: "; ")))
            }
            let quiet = series.filter { $0.testbed == testbed && $0.change_points == 0 }
            if !quiet.isEmpty {
                lines.append(
                    "  no change point in \(quiet.count) series: "
                        + quiet.map { "\($0.cell) \($0.metric)" }.joined(separator: ", "))
            }
            let spanning = series.filter { $0.testbed == testbed && $0.software_versions > 1 }
            if let s = spanning.first {
                lines.append(
                    "  note: the series span \(s.software_versions) software versions (kernel, firmware, Docker, qemu, lockstep); each change lists what changed"
                )
            }
        }
        if changes.isEmpty { lines.append("no change point") }
        return lines.joined(separator: "\n")
    }

    static func number(_ v: Double) -> String { String(format: "%.4g", v) }

    /// An ISO 8601 instant (with or without fractional seconds) or a `YYYY-MM-DD` date (UTC).
    static func parseDate(_ text: String) -> Date? {
        let full = ISO8601DateFormatter()
        full.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = full.date(from: text) { return d }
        let plain = ISO8601DateFormatter()
        if let d = plain.date(from: text) { return d }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        return day.date(from: text)
    }
}
