import Foundation
import Shared

/// `report.html`: one self-contained page (inline CSS, inline SVG, no script, nothing fetched) of
/// one or more results directories, drawn from the same rows as samples.jsonl and the terminal
/// tables: each figure's numbers come from the runs' aggregates (``Aggregates``), and the table
/// under it shows them with their interval and the ratio to native.
struct ReportPage {
    var runs: [ReportRun]
    /// When the page was made (shown, not computed from).
    var madeAt = ISO8601DateFormatter().string(from: Date())
    /// The runs' series over the history (`--history`), drawn after the figures.
    var history: HistorySection? = nil

    func html() -> String {
        var body: [SVGNode] = [.element("h1", [], [.text("lockstep report")]), overview()]
        let figures = ReportFigures(runs: runs).all()
        if figures.isEmpty {
            body.append(.element("p", [("class", "missing")], [.text("No workload results in these directories yet.")]))
        }
        body += figures.map(render)
        body.append(verdicts())
        if let history { body.append(history.svg()) }
        body.append(timeSeries())
        body.append(runSection())
        body.append(provenance())
        let page: SVGNode = .element(
            "html", [("lang", "en")],
            [
                .element(
                    "head", [],
                    [
                        .element("meta", [("charset", "utf-8")]),
                        .element("title", [], [.text("lockstep report: " + runs.map(\.name).joined(separator: ", "))]),
                        .element("style", [], [.raw(Self.css)]),
                    ]),
                .element("body", [], body),
            ])
        return "<!DOCTYPE html>\n" + page.render() + "\n"
    }

    // MARK: - What is here

    private func overview() -> SVGNode {
        var rows: [SVGNode] = [row(["run", "directory", "command", "status", "steps", "started"], header: true)]
        var missing: [SVGNode] = []
        for run in runs {
            let steps = run.info.map { info in
                "\(info.steps.filter { $0.status == .complete }.count) of \(info.plan?.count ?? info.steps.count)"
                    + (info.repetition != nil ? " cells (plan)" : "")
            }
            rows.append(
                row([
                    run.name, run.directory, run.info?.command ?? "-", run.info?.status.rawValue ?? "-", steps ?? "-",
                    run.info?.started_at ?? "-",
                ]))
            missing += run.missing.map { .element("li", [], [.text("\(run.name): \($0)")]) }
        }
        var parts: [SVGNode] = [
            .element("h2", [], [.text("Runs")]), .element("table", [], rows),
            .element(
                "p", [("class", "note")],
                [
                    .text(
                        "Made \(madeAt) by lockstep \(LockstepVersion.current). Numbers in the tables are means ± the "
                            + "half-width of their confidence interval over the repetitions (n); orange: wider than the "
                            + "plan's target. Ratios to native carry their own interval. Hover a bar, point or line for its value."
                    )
                ]),
        ]
        if runs.contains(where: { r in r.samples.contains { $0.labels["accel"] == "tcg" } }) {
            parts.append(
                .element(
                    "p", [("class", "warning")],
                    [.text("kvm steps ran under TCG (qemu's emulator): emulated results are not performance results.")])
            )
        }
        if !missing.isEmpty {
            parts.append(.element("h3", [], [.text("What is missing")]))
            parts.append(.element("ul", [("class", "missing")], missing))
        }
        return .element("section", [("id", "runs")], parts)
    }

    // MARK: - Figures

    private func render(_ figure: ReportFigures.Figure) -> SVGNode {
        var parts: [SVGNode] = [
            .element("h2", [], [.text(figure.title)]),
            .element("figure", [("class", "figure"), ("id", "figure-" + figure.id)], figure.charts),
            .element("p", [("class", "caption")], [.text(figure.caption)]),
        ]
        if let table = figure.table { parts.append(table) }
        return .element("section", [("id", figure.id)], parts)
    }

    // MARK: - Time series, the run itself, provenance

    private func timeSeries() -> SVGNode {
        var parts: [SVGNode] = [
            .element("h2", [], [.text("Each step, second by second")]),
            .element(
                "p", [("class", "caption")],
                [
                    .text(
                        "Open a step to see its per-second rate on every agent that streamed samples (warm-up included)."
                    )
                ]),
        ]
        for run in runs {
            var steps: [String] = []
            for s in run.intervals where !steps.contains(s.labels["step"] ?? "") {
                steps.append(s.labels["step"] ?? "")
            }
            for step in steps {
                var charts: [SVGNode] = []
                for (metrics, title) in Self.intervalCharts {
                    let rows = run.intervals.filter { $0.labels["step"] == step && metrics.contains($0.metric) }
                    guard !rows.isEmpty else { continue }
                    var hosts: [String] = []
                    for r in rows where !hosts.contains(r.labels["host"] ?? "") { hosts.append(r.labels["host"] ?? "") }
                    let unit = rows[0].unit
                    let series = hosts.map { host in
                        LineChart.Series(
                            name: host,
                            points: rows.filter { $0.labels["host"] == host }.compactMap { r in
                                guard let t = Double(r.labels["t_s"] ?? "") else { return nil }
                                return LineChart.Point(
                                    x: t, y: r.value, low: nil, high: nil,
                                    note: "\(host) at \(r.labels["t_s"] ?? "") s: \(format(r.value)) \(unit)")
                            })
                    }
                    charts.append(
                        LineChart(
                            title: "\(step): \(title)", xLabel: "seconds since the start", yLabel: unit, series: series,
                            frame: ChartFrame(width: 420, height: 220)
                        ).svg())
                }
                parts.append(
                    .element(
                        "details", [("class", "series")],
                        [
                            .element("summary", [], [.text((runs.count > 1 ? run.name + ": " : "") + step)]),
                            .element("div", [("class", "row")], charts),
                        ]))
            }
        }
        return .element("section", [("id", "time-series")], parts)
    }

    /// The per-second charts of a step: every workload's rate metric, mean latency, machine CPU.
    private static var intervalCharts: [(metrics: Set<String>, title: String)] {
        let rates =
            WorkloadRegistry.all.compactMap { $0.intervalRate?.name } + [
                CommonMetrics.Interval.transactionsPerSec.name, CommonMetrics.Interval.goodput.name,
            ]
        return [
            (Set(rates), "rate"), ([CommonMetrics.Interval.latencyMean.name], "mean latency"),
            ([CommonMetrics.Interval.cpuUtil.name], "machine CPU"),
        ]
    }

    private func runSection() -> SVGNode {
        var parts: [SVGNode] = [.element("h2", [], [.text("The run: clocks, starts and confidence")])]
        for run in runs {
            guard let info = run.info else { continue }
            if runs.count > 1 { parts.append(.element("h3", [], [.text(run.name)])) }
            var clocks: [SVGNode] = [
                row(
                    ["agent", "role", "method", "offset", "± bound", "offset after", "± bound", "drift (ppm)"],
                    header: true)
            ]
            for agent in info.agents {
                guard let c = agent.clock else { continue }
                clocks.append(
                    row([
                        agent.name, agent.role.rawValue, c.method ?? "-", Self.ns(c.offset_ns),
                        Self.ns(c.offset_error_ns),
                        c.offset_after_ns.map(Self.ns) ?? "-", c.offset_after_error_ns.map(Self.ns) ?? "-",
                        c.drift_ppm.map {
                            String(format: "%.4f", $0) + (c.drift_ppm_error.map { String(format: " ± %.4f", $0) } ?? "")
                        } ?? "-",
                    ]))
            }
            parts.append(.element("table", [("class", "clocks")], clocks))
            let steps = info.steps.filter { $0.start_skew_ns != nil }
            if !steps.isEmpty {
                let skews = LineChart.Series(
                    name: "start skew",
                    points: steps.enumerated().map { i, s in
                        let us = Double(s.start_skew_ns ?? 0) / 1000
                        return LineChart.Point(
                            x: Double(i + 1), y: us, low: nil, high: nil, note: "\(s.id): \(format(us)) us")
                    })
                let bounds = LineChart.Series(
                    name: "clock error bound",
                    points: steps.enumerated().map { i, s in
                        let us = Double(s.clock_offset_error_ns ?? 0) / 1000
                        return LineChart.Point(
                            x: Double(i + 1), y: us, low: nil, high: nil, note: "\(s.id): ± \(format(us)) us")
                    })
                parts.append(
                    .element(
                        "figure", [("class", "figure"), ("id", "figure-skew-" + run.name)],
                        [
                            LineChart(
                                title: "Start skew per step", xLabel: "step", yLabel: "us", series: [skews, bounds],
                                frame: ChartFrame(width: 640, height: 240)
                            ).svg()
                        ]))
                var table: [SVGNode] = [
                    row(["step", "status", "common window (s)", "start skew (us)", "clock error (us)"], header: true)
                ]
                for s in info.steps {
                    let window = (s.window_end_ns ?? 0) - (s.window_start_ns ?? 0)
                    table.append(
                        row([
                            s.id, s.status.rawValue,
                            s.window_start_ns == nil ? "-" : String(format: "%.3f", Double(window) / 1e9),
                            s.start_skew_ns.map { String(format: "%.3f", Double($0) / 1000) } ?? "-",
                            s.clock_offset_error_ns.map { String(format: "%.3f", Double($0) / 1000) } ?? "-",
                        ]))
                }
                parts.append(
                    .element(
                        "details", [], [.element("summary", [], [.text("every step")]), .element("table", [], table)]))
            }
            let headlines = run.aggregates.filter(\.headline)
            if !headlines.isEmpty {
                var table: [SVGNode] = [
                    row(["cell", "metric", "n", "mean", "± ci", "width %", "confidence met"], header: true)
                ]
                for a in headlines {
                    table.append(
                        row([
                            a.cell, a.metric, String(a.n), format(a.mean), a.ci_half_width.map(format) ?? "-",
                            a.ci_width_pct.map { String(format: "%.1f", $0) } ?? "-",
                            a.n < 2 ? "one repetition" : (a.confidence_met ? "yes" : "NO"),
                        ]))
                }
                parts.append(
                    .element(
                        "p", [("class", "caption")],
                        [
                            .text(
                                "Confidence: \(Int(run.rule.level * 100))% Student-t intervals; target width \(svgNumber(run.rule.widthPercent))% of the mean."
                            )
                        ]))
                parts.append(.element("table", [("class", "confidence")], table))
            }
        }
        return .element("section", [("id", "run")], parts)
    }

    private func provenance() -> SVGNode {
        var columns: [(String, [String: String])] = []
        for run in runs {
            guard let info = run.info else { continue }
            for agent in info.agents {
                let name = (runs.count > 1 ? run.name + ": " : "") + agent.name
                columns.append((name, Self.flatten(agent.host)))
            }
        }
        var keys: [String] = []
        for (_, facts) in columns { for key in facts.keys.sorted() where !keys.contains(key) { keys.append(key) } }
        var rows: [SVGNode] = [row(["fact"] + columns.map(\.0), header: true)]
        for key in keys {
            let values = columns.map { $0.1[key] ?? "-" }
            let differs = Set(values).count > 1
            rows.append(
                .element(
                    "tr", differs ? [("class", "differs")] : [],
                    [.element("td", [], [.text(key)])] + values.map { .element("td", [], [.text($0)]) }))
        }
        return .element(
            "section", [("id", "provenance")],
            [
                .element("h2", [], [.text("Provenance")]),
                .element(
                    "p", [("class", "caption")],
                    [.text("Every agent's host facts side by side; rows where hosts or runs differ are highlighted.")]),
                .element("table", [("class", "provenance")], rows),
            ])
    }

    // MARK: - Helpers

    private func row(_ cells: [String], header: Bool = false) -> SVGNode { ReportFigures.row(cells, header: header) }

    private func format(_ v: Double) -> String { ReportFigures.format(v) }

    private static func ns(_ v: Int64) -> String {
        abs(v) >= 1_000_000_000
            ? String(format: "%.6f s", Double(v) / 1e9) : String(format: "%.3f us", Double(v) / 1000)
    }

    /// An encodable value as `path.to.field -> value` lines.
    static func flatten<T: Encodable>(_ value: T) -> [String: String] {
        guard let data = try? JSONEncoder().encode(value), let object = try? JSONSerialization.jsonObject(with: data)
        else { return [:] }
        var out: [String: String] = [:]
        func walk(_ node: Any, _ path: String) {
            if let map = node as? [String: Any] {
                for (k, v) in map { walk(v, path.isEmpty ? k : path + "." + k) }
            } else if let list = node as? [Any] {
                if list.allSatisfy({ !($0 is [String: Any]) && !($0 is [Any]) }) {
                    out[path] = list.map { "\($0)" }.joined(separator: ", ")
                } else {
                    for (i, v) in list.enumerated() { walk(v, "\(path)[\(i)]") }
                }
            } else {
                out[path] = "\(node)"
            }
        }
        walk(object, "")
        return out
    }

    static let css = """
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1320px; color: #222; }
        tr.suspect td { color: #888; } h1 { font-size: 26px; } h2 { font-size: 20px; margin-top: 36px; border-bottom: 1px solid #ddd; } h3 { font-size: 16px; }
        table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
        th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
        th { background: #f4f4f4; } td.unmet { color: #a40; } tr.differs td { background: #fff3c4; }
        figure.figure { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0; }
        svg.chart { background: #fff; border: 1px solid #eee; }
        svg .grid { stroke: #e6e6e6; } svg .axis { stroke: #444; } svg .whisker line { stroke: #111; stroke-width: 1.5; }
        svg text { font-size: 11px; fill: #333; } svg .axis-label { font-size: 12px; }
        svg .chart-title { font-size: 13px; font-weight: 600; fill: #111; }
        .caption { color: #555; font-size: 13px; max-width: 1000px; } .note { color: #777; font-size: 12px; }
        .warning { background: #fde2e1; padding: 6px 10px; border-left: 4px solid #c33; }
        .missing { color: #a40; } details.series { margin: 4px 0; } summary { cursor: pointer; }
        div.row { display: flex; flex-wrap: wrap; gap: 8px; }
        """
}
