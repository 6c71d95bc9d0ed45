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

    /// A figure: its title, its caption, the chart, and the table of its numbers.
    struct Figure {
        var id: String
        var title: String
        var caption: String
        var charts: [SVGNode]
        var table: SVGNode?
    }

    func html() -> String {
        var body: [SVGNode] = [.element("h1", [], [.text("lockstep report")]), overview()]
        let figures = rrFigures() + bulkFigures() + sweepFigures(workload: "redis") + sweepFigures(workload: "mysql")
        if figures.isEmpty {
            body.append(.element("p", [("class", "missing")], [.text("No workload results in these directories yet.")]))
        }
        body += figures.map(render)
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
                "\(info.steps.filter { $0.status == "complete" }.count) of \(info.plan?.count ?? info.steps.count)"
                    + (info.repetition != nil ? " cells (plan)" : "")
            }
            rows.append(
                row([
                    run.name, run.directory, run.info?.command ?? "-", run.info?.status ?? "-", steps ?? "-",
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

    /// A workload's cells across runs: (run, cell, mode, spec labels), in plan order.
    private func cells(_ workload: String) -> [(run: ReportRun, cell: PlanFile.Cell)] {
        runs.flatMap { run in
            let present = Set(run.aggregates.map(\.cell))
            return run.cells.filter { $0.step.workload.name == workload && present.contains($0.id) }.map { (run, $0) }
        }
    }

    private func seriesName(_ run: ReportRun, _ mode: DeploymentMode) -> String {
        runs.count > 1 ? "\(run.name): \(mode.rawValue)" : mode.rawValue
    }

    /// The series (run and mode) of `list`, native first.
    private func series(_ list: [(run: ReportRun, cell: PlanFile.Cell)]) -> [String] {
        var out: [String] = []
        for run in runs {
            for mode in DeploymentMode.allCases
            where list.contains(where: { $0.run.name == run.name && $0.cell.step.placement.mode == mode }) {
                out.append(seriesName(run, mode))
            }
        }
        return out
    }

    private func bar(_ row: AggregateRow?, unit: String) -> BarChart.Bar? {
        guard let row else { return nil }
        let half = row.ci_half_width
        return BarChart.Bar(
            value: row.mean, low: half.map { row.mean - $0 }, high: half.map { row.mean + $0 },
            note: "\(row.cell): \(format(row.mean)) \(unit)" + (half.map { " ± \(format($0))" } ?? "") + " (n=\(row.n))"
        )
    }

    private func rrFigures() -> [Figure] {
        let list = cells("rr")
        guard !list.isEmpty else { return [] }
        let layout = Layout(list, series: series(list), name: seriesName) { cell in
            guard case .rr(let s) = cell.step.workload else { return "" }
            return "\(s.proto.rawValue.uppercased())_RR \(s.requestSize)/\(s.responseSize), \(s.flows) flow(s)"
        }
        let (groups, names) = (layout.groups, layout.names)
        let bars = groups.map { g in
            names.map { name in
                bar(layout.entry(name, g).flatMap { $0.run.aggregate($0.cell.id, "latency_mean_us") }, unit: "us")
            }
        }
        let latency = Figure(
            id: "rr-latency", title: "Request/response: mean round-trip latency",
            caption:
                "Mean round-trip time per mode (netperf TCP_RR/UDP_RR; the paper's Fig. 3). Whiskers: the mean's confidence interval over repetitions.",
            charts: [
                BarChart(
                    title: "Mean round-trip latency", yLabel: "latency (us)", groups: groups, series: names, bars: bars
                ).svg()
            ],
            table: table(list, metrics: ["latency_mean_us", "latency_p99_us", "transactions_per_sec"]))
        // The percentile distribution of each mode (its first repetition's histogram).
        var charts: [SVGNode] = []
        for g in groups {
            var lines: [LineChart.Series] = []
            var highest = 99.0
            for name in names {
                guard let entry = layout.entry(name, g), let step = entry.run.steps(of: entry.cell.id).first,
                    let points = entry.run.histograms[step]
                else { continue }
                let kept = points.filter { $0.percentile <= 99.999 }
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
                    yLabel: "latency (us)", series: lines, xTicks: PercentileAxis.ticks(upTo: highest)
                ).svg())
        }
        let distribution = Figure(
            id: "rr-percentiles", title: "Request/response: latency distribution",
            caption:
                "Each mode's round-trip latency by percentile, HdrHistogram style (the first repetition's histogram of each cell).",
            charts: charts, table: nil)
        return [latency] + (charts.isEmpty ? [] : [distribution])
    }

    private func bulkFigures() -> [Figure] {
        let list = cells("stream")
        guard !list.isEmpty else { return [] }
        let layout = Layout(list, series: series(list), name: seriesName) { cell in
            guard case .stream(let s) = cell.step.workload else { return "" }
            return "\(s.direction.rawValue), \(s.streams) stream(s)"
        }
        let (groups, names, entry) = (layout.groups, layout.names, layout.entry)
        let goodput = groups.map { g in
            names.map { name in
                bar(entry(name, g).flatMap { $0.run.aggregate($0.cell.id, "goodput_gbps") }, unit: "Gbit/s")
            }
        }
        var cpuGroups: [String] = []
        var cpuBars: [[BarChart.Bar?]] = []
        for g in groups {
            for (metric, who) in [("sut_cycles_per_byte", "SUT"), ("host_cycles_per_byte", "host")] {
                cpuGroups.append("\(g.replacingOccurrences(of: ", 1 stream(s)", with: "")) \(who)")
                cpuBars.append(
                    names.map { name in
                        bar(entry(name, g).flatMap { $0.run.aggregate($0.cell.id, metric) }, unit: "cycles/byte")
                    })
            }
        }
        return [
            Figure(
                id: "bulk", title: "Bulk transfer: goodput and CPU cost",
                caption:
                    "One TCP stream each way (nuttcp-style; the paper's Figs. 1-2): goodput counted by the receiver, and CPU cycles per byte moved on the SUT (its own view) and on the machine under it (the host agent's meter).",
                charts: [
                    BarChart(title: "Goodput", yLabel: "Gbit/s", groups: groups, series: names, bars: goodput).svg(),
                    BarChart(
                        title: "CPU cycles per byte", yLabel: "cycles/byte", groups: cpuGroups, series: names,
                        bars: cpuBars
                    )
                    .svg(),
                ],
                table: table(list, metrics: ["goodput_gbps", "sut_cycles_per_byte", "host_cycles_per_byte"]))
        ]
    }

    /// A workload's cells laid out for a grouped figure: its points in first-seen order, its series
    /// (run and mode), and the cell of a series at a point.
    private struct Layout {
        var groups: [String] = []
        var names: [String]
        var entry: (String, String) -> (run: ReportRun, cell: PlanFile.Cell)?

        init(
            _ list: [(run: ReportRun, cell: PlanFile.Cell)], series: [String],
            name: @escaping (ReportRun, DeploymentMode) -> String, group: @escaping (PlanFile.Cell) -> String
        ) {
            for (_, cell) in list where !groups.contains(group(cell)) { groups.append(group(cell)) }
            names = series
            entry = { wanted, point in
                list.first { name($0.run, $0.cell.step.placement.mode) == wanted && group($0.cell) == point }
            }
        }
    }

    /// Redis (throughput and latency against connections) or MySQL (against threads).
    private func sweepFigures(workload: String) -> [Figure] {
        let list = cells(workload)
        guard !list.isEmpty else { return [] }
        let (xKey, xLabel, rate, rateLabel, latency, latencyUnit, title, caption) =
            workload == "redis"
            ? (
                "connections", "connections", "ops_per_sec", "operations/s", "latency_mean_us", "us",
                "Redis: throughput and latency against connections",
                "redis-server on the SUT, GET/SET from the peers (the paper's Figs. 8-9); bands: the confidence interval over repetitions."
            )
            : (
                "threads", "threads", "transactions_per_sec", "transactions/s", "latency_mean_ms", "ms",
                "MySQL: transactions and latency against threads",
                "sysbench-style OLTP against MariaDB on the SUT (the paper's Figs. 10-12); bands: the confidence interval over repetitions."
            )
        let names = series(list)
        func lines(_ metric: String, unit: String) -> [LineChart.Series] {
            names.map { name in
                let points = list.filter { seriesName($0.run, $0.cell.step.placement.mode) == name }.compactMap {
                    entry -> LineChart.Point? in
                    guard let row = entry.run.aggregate(entry.cell.id, metric), let x = Double(row.labels[xKey] ?? "")
                    else { return nil }
                    return LineChart.Point(
                        x: x, y: row.mean, low: row.ci_half_width.map { row.mean - $0 },
                        high: row.ci_half_width.map { row.mean + $0 },
                        note: "\(row.cell): \(format(row.mean)) \(unit)"
                            + (row.ci_half_width.map { " ± \(format($0))" } ?? ""))
                }.sorted { $0.x < $1.x }
                return LineChart.Series(name: name, points: points)
            }
        }
        return [
            Figure(
                id: workload, title: title, caption: caption,
                charts: [
                    LineChart(title: rateLabel, xLabel: xLabel, yLabel: rateLabel, series: lines(rate, unit: rateLabel))
                        .svg(),
                    LineChart(
                        title: "mean latency", xLabel: xLabel, yLabel: "latency (\(latencyUnit))",
                        series: lines(latency, unit: latencyUnit)
                    ).svg(),
                ],
                table: table(list, metrics: [rate, latency, "sut_cpu_us_per_op"]))
        ]
    }

    /// The numbers of a figure: per cell, each metric's mean ± interval (n), and its ratio to native.
    private func table(_ list: [(run: ReportRun, cell: PlanFile.Cell)], metrics: [String]) -> SVGNode {
        var header = ["run", "cell", "mode"]
        for metric in metrics { header += [metric, "vs native"] }
        var rows: [SVGNode] = [row(header, header: true)]
        for (run, cell) in list {
            var cells: [SVGNode] = [
                .element("td", [], [.text(run.name)]), .element("td", [], [.text(cell.id)]),
                .element("td", [], [.text(cell.step.placement.mode.rawValue)]),
            ]
            for metric in metrics {
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
                let ratio =
                    a.ratio_to_native.map { value in
                        String(format: "%.3f", value)
                            + (a.ratio_ci_low.map { String(format: " [%.3f, %.3f]", $0, a.ratio_ci_high ?? $0) } ?? "")
                    } ?? "-"
                cells.append(
                    .element("td", a.ratio_to_native.map { [("data-ratio", String($0))] } ?? [], [.text(ratio)]))
            }
            rows.append(.element("tr", [], cells))
        }
        return .element("table", [("class", "numbers")], rows)
    }

    private func render(_ figure: Figure) -> SVGNode {
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
                for (metrics, title) in [
                    (["transactions_per_sec", "goodput_gbps"], "rate"), (["latency_mean_us"], "mean latency"),
                    (["cpu_util_pct"], "machine CPU"),
                ] {
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
                        agent.name, agent.role, c.method ?? "-", Self.ns(c.offset_ns), Self.ns(c.offset_error_ns),
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
                            s.id, s.status,
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

    private func row(_ cells: [String], header: Bool = false) -> SVGNode {
        .element("tr", [], cells.map { .element(header ? "th" : "td", [], [.text($0)]) })
    }

    private func format(_ v: Double) -> String { String(format: abs(v) >= 100 ? "%.1f" : "%.4g", v) }

    private static func ns(_ v: Int64) -> String {
        abs(v) >= 1_000_000_000
            ? String(format: "%.6f s", Double(v) / 1e9) : String(format: "%.3f us", Double(v) / 1000)
    }

    /// At most about 200 points, keeping the tail (the distribution's interesting end).
    private static func thin(_ points: [(percentile: Double, value: Double)]) -> [(percentile: Double, value: Double)] {
        guard points.count > 200 else { return points }
        let stride = points.count / 200 + 1
        return points.enumerated().filter { $0.offset % stride == 0 || $0.offset >= points.count - 20 }.map(\.element)
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
        h1 { font-size: 26px; } h2 { font-size: 20px; margin-top: 36px; border-bottom: 1px solid #ddd; } h3 { font-size: 16px; }
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
