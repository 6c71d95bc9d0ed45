import Foundation
import Shared

/// The workloads' sections of the report, drawn from each registered workload's ``FigureSpec``s:
/// nothing here names a workload or a metric. Every number comes from the runs' aggregates, and the
/// table under a figure shows them with their interval and the ratio to native.
struct ReportFigures {
    var runs: [ReportRun]

    /// A figure: its title, its caption, the chart, and the table of its numbers.
    struct Figure {
        var id: String
        var title: String
        var caption: String
        var charts: [SVGNode]
        var table: SVGNode?
    }

    typealias Entry = (run: ReportRun, cell: PlanFile.Cell)

    /// Every registered workload's figures, in registration order, for the workloads these runs ran.
    func all() -> [Figure] {
        WorkloadRegistry.all.compactMap { $0 as? any WorkloadMetrics.Type }.flatMap { type in
            let list = cells(type.name)
            return list.isEmpty ? [] : type.figures.compactMap { draw($0, list) }
        }
    }

    private func draw(_ spec: FigureSpec, _ list: [Entry]) -> Figure? {
        switch spec {
        case .bars(let bars): return self.bars(bars, list)
        case .percentiles(let figure): return percentiles(figure, list)
        case .sweep(let sweep):
            // A closed-loop sweep draws the closed-loop cells, an open-loop one the cells with a rate.
            let kept = list.filter {
                let labels = $0.cell.step.workload.spec.labels
                return labels[sweep.x] != nil && (labels["rate"] != nil) == sweep.openLoop
            }
            return kept.isEmpty ? nil : self.sweep(sweep, kept)
        }
    }

    // MARK: - Cells and series

    /// A workload's cells across runs, in plan order.
    private func cells(_ workload: String) -> [Entry] {
        runs.flatMap { run in
            let present = Set(run.aggregates.map(\.cell))
            return run.cells.filter { $0.step.workload.name == workload && present.contains($0.id) }.map { (run, $0) }
        }
    }

    private func seriesName(_ run: ReportRun, _ placement: Placement) -> String {
        runs.count > 1 ? "\(run.name): \(placement.seriesName)" : placement.seriesName
    }

    /// The series (run and mode) of `list`, native first.
    private func series(_ list: [Entry]) -> [String] {
        var out: [String] = []
        for run in runs {
            for mode in DeploymentMode.allCases {
                for entry in list where entry.run.name == run.name && entry.cell.step.placement.mode == mode {
                    let name = seriesName(run, entry.cell.step.placement)
                    if !out.contains(name) { out.append(name) }
                }
            }
        }
        return out
    }

    /// The cells laid out for a grouped figure: its points in first-seen order, its series, and the
    /// cell of a series at a point.
    private struct Layout {
        var groups: [String] = []
        var names: [String]
        var entry: (String, String) -> Entry?

        init(
            _ list: [Entry], series: [String], name: @escaping (ReportRun, Placement) -> String,
            group: @escaping (PlanFile.Cell) -> String
        ) {
            for (_, cell) in list where !groups.contains(group(cell)) { groups.append(group(cell)) }
            names = series
            entry = { wanted, point in
                list.first { name($0.run, $0.cell.step.placement) == wanted && group($0.cell) == point }
            }
        }
    }

    // MARK: - The three kinds of figure

    private func bars(_ spec: FigureSpec.Bars, _ list: [Entry]) -> Figure {
        let layout = Layout(list, series: series(list), name: seriesName) { spec.point($0.step.workload) }
        let charts = spec.charts.map { chart -> SVGNode in
            var groups: [String] = []
            var bars: [[BarChart.Bar?]] = []
            for g in layout.groups {
                for (metric, suffix) in chart.metrics {
                    groups.append(suffix.isEmpty ? g : "\(g) \(suffix)")
                    bars.append(
                        layout.names.map { name in
                            layout.entry(name, g).flatMap { entry in
                                bar(
                                    entry.run.aggregate(entry.cell.id, metric.name), metric,
                                    suspect: entry.run.suspect(entry.cell.id))
                            }
                        })
                }
            }
            return BarChart(title: chart.title, yLabel: chart.yLabel, groups: groups, series: layout.names, bars: bars)
                .svg()
        }
        return Figure(
            id: spec.id, title: spec.title, caption: spec.caption, charts: charts, table: table(list, spec.table))
    }

    private func percentiles(_ spec: FigureSpec.Percentiles, _ list: [Entry]) -> Figure? {
        let layout = Layout(list, series: series(list), name: seriesName) { spec.point($0.step.workload) }
        var charts: [SVGNode] = []
        for g in layout.groups {
            var lines: [LineChart.Series] = []
            var highest = 99.0
            for name in layout.names {
                guard let entry = layout.entry(name, g), let step = entry.run.steps(of: entry.cell.id).first,
                    let points = entry.run.histograms[step]
                else { continue }
                let kept = points.filter { $0.percentile <= 99.999 && $0.value > 0 }
                highest = max(highest, kept.last?.percentile ?? 99)
                lines.append(
                    LineChart.Series(
                        name: name,
                        points: Self.thin(kept).map {
                            LineChart.Point(
                                x: PercentileAxis.position($0.percentile), y: $0.value, low: nil, high: nil,
                                note: String(format: "%@: p%.4g = %.1f us", name, $0.percentile, $0.value))
                        }))
            }
            guard !lines.isEmpty else { continue }
            charts.append(
                LineChart(
                    title: "\(g): latency by percentile", xLabel: "percentile (log scale of 1/(1-p))",
                    yLabel: "latency (us, log scale)", series: lines, xTicks: PercentileAxis.ticks(upTo: highest),
                    logY: true
                ).svg())
        }
        guard !charts.isEmpty else { return nil }
        return Figure(id: spec.id, title: spec.title, caption: spec.caption, charts: charts, table: nil)
    }

    private func sweep(_ spec: FigureSpec.Sweep, _ list: [Entry]) -> Figure {
        let names = series(list)
        func lines(_ metric: Metric) -> [LineChart.Series] {
            names.map { name in
                let points = list.filter { seriesName($0.run, $0.cell.step.placement) == name }.compactMap {
                    entry -> LineChart.Point? in
                    guard let row = entry.run.aggregate(entry.cell.id, metric.name),
                        let x = Double(row.labels[spec.x] ?? "")
                    else { return nil }
                    return LineChart.Point(
                        x: x, y: row.mean, low: row.ci_half_width.map { row.mean - $0 },
                        high: row.ci_half_width.map { row.mean + $0 },
                        note: "\(row.cell): \(format(row.mean)) \(row.unit)"
                            + (row.ci_half_width.map { " ± \(format($0))" } ?? ""))
                }.sorted { $0.x < $1.x }
                return LineChart.Series(name: name, points: points)
            }
        }
        let charts = spec.charts.flatMap { chart in
            chart.metrics.map { metric, _ in
                LineChart(title: chart.title, xLabel: spec.xLabel, yLabel: chart.yLabel, series: lines(metric)).svg()
            }
        }
        return Figure(
            id: spec.id, title: spec.title, caption: spec.caption, charts: charts, table: table(list, spec.table))
    }

    // MARK: - Pieces

    /// A cell's bar; grey with the failed checks in its hover note when any of its steps is suspect.
    private func bar(_ row: AggregateRow?, _ metric: Metric, suspect: [String] = []) -> BarChart.Bar? {
        guard let row else { return nil }
        let half = row.ci_half_width
        return BarChart.Bar(
            value: row.mean, low: half.map { row.mean - $0 }, high: half.map { row.mean + $0 },
            note: "\(row.cell): \(format(row.mean)) \(metric.unit)" + (half.map { " ± \(format($0))" } ?? "")
                + " (n=\(row.n))" + (suspect.isEmpty ? "" : "\nSUSPECT: " + suspect.joined(separator: "\n")),
            suspect: !suspect.isEmpty)
    }

    /// The numbers of a figure: per cell, each metric's mean ± interval (n), and its ratio to native.
    private func table(_ list: [Entry], _ metrics: [Metric]) -> SVGNode {
        var header = ["run", "cell", "mode"]
        for metric in metrics { header += [metric.name, "vs native"] }
        var rows: [SVGNode] = [ReportFigures.row(header, header: true)]
        for (run, cell) in list {
            var cells: [SVGNode] = [
                .element("td", [], [.text(run.name)]), .element("td", [], [.text(cell.id)]),
                .element("td", [], [.text(cell.step.placement.seriesName)]),
            ]
            for metric in metrics.map(\.name) {
                guard let a = run.aggregate(cell.id, metric) else {
                    cells += [.element("td", [], [.text("-")]), .element("td", [], [.text("-")])]
                    continue
                }
                let text = format(a.mean) + (a.ci_half_width.map { " ± " + format($0) } ?? "") + " (n=\(a.n))"
                cells.append(
                    .element(
                        "td",
                        [
                            ("data-run", run.name), ("data-cell", a.cell), ("data-metric", metric),
                            ("data-value", String(a.mean)), ("class", a.confidence_met || a.n < 2 ? "" : "unmet"),
                        ], [.text(text)]))
                let ratio = a.ratioText
                cells.append(
                    .element("td", a.ratio_to_native.map { [("data-ratio", String($0))] } ?? [], [.text(ratio)]))
            }
            rows.append(.element("tr", [], cells))
        }
        return .element("table", [("class", "numbers")], rows)
    }

    static func row(_ cells: [String], header: Bool = false) -> SVGNode {
        .element("tr", [], cells.map { .element(header ? "th" : "td", [], [.text($0)]) })
    }

    private func format(_ v: Double) -> String { ReportFigures.format(v) }

    static func format(_ v: Double) -> String { String(format: abs(v) >= 100 ? "%.1f" : "%.4g", v) }

    /// At most about 200 points, keeping the tail (the distribution's interesting end).
    static func thin(_ points: [(percentile: Double, value: Double)]) -> [(percentile: Double, value: Double)] {
        guard points.count > 200 else { return points }
        let stride = points.count / 200 + 1
        return points.enumerated().filter { $0.offset % stride == 0 || $0.offset >= points.count - 20 }.map(\.element)
    }
}

extension Placement {
    /// A figure's series for cells of this placement: the mode, with the storage a container cell
    /// set and the CPU model and topology a kvm cell set (`docker-nat (layered)`, `kvm (cpu default)`).
    var seriesName: String {
        var extras: [String] = []
        if [.dockerHost, .dockerNAT].contains(mode), let storage { extras.append(storage.rawValue) }
        if mode == .kvm {
            if let vmCPUModel { extras.append("cpu \(vmCPUModel.rawValue)") }
            if let vmTopology { extras.append("\(vmTopology)") }
        }
        return extras.isEmpty ? mode.rawValue : "\(mode.rawValue) (\(extras.joined(separator: ", ")))"
    }
}
