import Foundation

/// The report's "Over time" section (`lockstep report --history DB`): for each cell and headline
/// metric of the report's runs, the series of every run of the same testbed in the history, with
/// each run's interval, its change points (dashed red lines) and the report's own runs ringed.
struct HistorySection {
    /// One series: a testbed's cell and metric over the runs.
    struct Series {
        var testbed: String
        var cell: String
        var metric: String
        var unit: String
        var points: [HistoryStore.Point]
        var changes: [ChangePoints.Point]
    }

    var database: String
    var series: [Series]
    /// Keys (`run_id@started_at`) of the report's runs.
    var current: Set<String>
    /// Report runs that are not in the history.
    var notStored: [String]
    var options: ChangePoints.Options

    /// The section for `runs` from the history at `database`.
    static func load(_ database: String, runs: [ReportRun], options: ChangePoints.Options = ChangePoints.Options())
        async throws -> HistorySection
    {
        let points = try await HistoryStore.with(database, create: false) { try await $0.points() }
        let infos = runs.compactMap(\.info)
        let testbeds = Set(infos.map { Testbed($0).fingerprint })
        let cells = Set(runs.flatMap { $0.aggregates.map(\.cell) })
        let current = Set(infos.map { "\($0.run_id)@\($0.started_at)" })
        let stored = Set(points.map(\.run.key))
        let mine = points.filter { cells.contains($0.cell) && testbeds.contains($0.run.testbed) }
        let series = Regressions.series(mine).map { group in
            Series(
                testbed: group[0].run.testbed, cell: group[0].cell, metric: group[0].metric, unit: group[0].unit,
                points: group, changes: ChangePoints.find(group.map(\.mean), options: options))
        }
        return HistorySection(
            database: database, series: series, current: current,
            notStored: runs.filter { run in run.info.map { !stored.contains("\($0.run_id)@\($0.started_at)") } ?? false
            }
            .map(\.name), options: options)
    }

    func svg() -> SVGNode {
        var parts: [SVGNode] = [
            .element("h2", [], [.text("Over time")]),
            .element(
                "p", [("class", "caption")],
                [
                    .text(
                        "Every run of the same testbed in \(database), oldest left: each run's mean with its interval "
                            + "(band), change points found by E-divisive means with a Student's t test at p < "
                            + String(format: "%g", options.maxPValue)
                            + " (dashed red; hover for the change), the runs of this report ringed.")
                ]),
        ]
        if !notStored.isEmpty {
            parts.append(
                .element(
                    "p", [("class", "warning")],
                    [
                        .text(
                            "Not in the history: \(notStored.joined(separator: ", ")) (add with `lockstep history add`)."
                        )
                    ])
            )
        }
        if series.isEmpty {
            parts.append(
                .element("p", [("class", "missing")], [.text("No run of these cells on this testbed in the history.")]))
        }
        var charts: [SVGNode] = []
        for s in series {
            let points = s.points.enumerated().map { i, p in
                LineChart.Point(
                    x: Double(i + 1), y: p.mean, low: p.ciHalfWidth.map { p.mean - $0 },
                    high: p.ciHalfWidth.map { p.mean + $0 },
                    note: "\(p.run.name) (\(p.run.started_at)): \(Regressions.number(p.mean)) \(s.unit), n=\(p.n)")
            }
            let verticals = s.changes.map { c in
                (
                    x: Double(c.index) + 0.5,
                    note: "change at \(s.points[c.index].run.name): \(Regressions.number(c.meanBefore)) -> "
                        + "\(Regressions.number(c.meanAfter)) \(s.unit) (\(String(format: "%+.1f%%", c.changePercent)), "
                        + "p=\(String(format: "%.2g", c.pValue)))"
                )
            }
            let highlighted = points.enumerated().filter { current.contains(s.points[$0.offset].run.key) }.map(
                \.element)
            charts.append(
                LineChart(
                    title: "\(s.cell): \(s.metric)", xLabel: "run (oldest first)", yLabel: s.unit,
                    series: [LineChart.Series(name: "testbed \(s.testbed)", points: points)],
                    frame: ChartFrame(width: 420, height: 220), verticals: verticals, highlighted: highlighted
                ).svg())
        }
        if !charts.isEmpty { parts.append(.element("div", [("class", "row")], charts)) }
        return .element("section", [("id", "history")], parts)
    }
}
