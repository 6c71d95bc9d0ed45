import Foundation

/// The colours series take, in order (distinct in print and for the common colour blindnesses).
let seriesColors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

/// Where a chart draws: the whole picture and the plot area inside its margins.
struct ChartFrame: Equatable, Sendable {
    var width = 640.0
    var height = 300.0
    var left = 64.0
    var right = 16.0
    var top = 50.0
    var bottom = 44.0

    var plotLeft: Double { left }
    var plotRight: Double { width - right }
    var plotTop: Double { top }
    var plotBottom: Double { height - bottom }
}

/// Axes, gridlines, labels and the legend every chart shares.
enum ChartParts {
    static func root(_ frame: ChartFrame, title: String, _ children: [SVGNode]) -> SVGNode {
        .element(
            "svg",
            [
                ("xmlns", "http://www.w3.org/2000/svg"),
                ("viewBox", "0 0 \(svgNumber(frame.width)) \(svgNumber(frame.height))"),
                ("width", svgNumber(frame.width)), ("height", svgNumber(frame.height)), ("role", "img"),
                ("aria-label", title), ("class", "chart"),
            ],
            [
                .element("title", [], [.text(title)]),
                .element(
                    "text", [("class", "chart-title"), ("x", svgNumber(frame.plotLeft)), ("y", "16")], [.text(title)]),
            ] + children)
    }

    /// The y axis: gridlines and labels at the scale's ticks, and the axis's name.
    static func yAxis(_ y: LinearScale, _ frame: ChartFrame, label: String) -> SVGNode {
        yAxis(ticks: y.ticks(5).map { (y($0), $0) }, frame, label: label)
    }

    /// The y axis at ticks given as (pixel, value).
    static func yAxis(ticks: [(pixel: Double, value: Double)], _ frame: ChartFrame, label: String) -> SVGNode {
        var parts: [SVGNode] = []
        for (py, tick) in ticks {
            parts.append(
                .element(
                    "line",
                    [
                        ("class", "grid"), ("x1", svgNumber(frame.plotLeft)), ("x2", svgNumber(frame.plotRight)),
                        ("y1", svgNumber(py)), ("y2", svgNumber(py)),
                    ]))
            parts.append(
                .element(
                    "text",
                    [
                        ("class", "tick"), ("x", svgNumber(frame.plotLeft - 6)), ("y", svgNumber(py + 4)),
                        ("text-anchor", "end"),
                    ], [.text(tickLabel(tick))]))
        }
        let mid = (frame.plotTop + frame.plotBottom) / 2
        parts.append(
            .element(
                "text",
                [
                    ("class", "axis-label"), ("x", "14"), ("y", svgNumber(mid)), ("text-anchor", "middle"),
                    ("transform", "rotate(-90 14 \(svgNumber(mid)))"),
                ], [.text(label)]))
        parts.append(
            .element(
                "line",
                [
                    ("class", "axis"), ("x1", svgNumber(frame.plotLeft)), ("x2", svgNumber(frame.plotLeft)),
                    ("y1", svgNumber(frame.plotTop)), ("y2", svgNumber(frame.plotBottom)),
                ]))
        return .element("g", [("class", "y-axis")], parts)
    }

    /// The x axis line and its name under the plot.
    static func xAxis(_ frame: ChartFrame, label: String, ticks: [(x: Double, label: String)]) -> SVGNode {
        var parts: [SVGNode] = [
            .element(
                "line",
                [
                    ("class", "axis"), ("x1", svgNumber(frame.plotLeft)), ("x2", svgNumber(frame.plotRight)),
                    ("y1", svgNumber(frame.plotBottom)), ("y2", svgNumber(frame.plotBottom)),
                ])
        ]
        for tick in ticks {
            parts.append(
                .element(
                    "text",
                    [
                        ("class", "tick"), ("x", svgNumber(tick.x)), ("y", svgNumber(frame.plotBottom + 16)),
                        ("text-anchor", "middle"),
                    ], [.text(tick.label)]))
        }
        parts.append(
            .element(
                "text",
                [
                    ("class", "axis-label"), ("x", svgNumber((frame.plotLeft + frame.plotRight) / 2)),
                    ("y", svgNumber(frame.height - 6)), ("text-anchor", "middle"),
                ], [.text(label)]))
        return .element("g", [("class", "x-axis")], parts)
    }

    /// A row of coloured swatches and names above the plot, under the title.
    static func legend(_ names: [String], _ frame: ChartFrame) -> SVGNode {
        var x = frame.plotLeft
        var parts: [SVGNode] = []
        for (i, name) in names.enumerated() {
            parts.append(
                .element(
                    "rect",
                    [
                        ("x", svgNumber(x)), ("y", "25"), ("width", "12"), ("height", "12"),
                        ("fill", seriesColors[i % seriesColors.count]),
                    ]))
            parts.append(.element("text", [("class", "legend"), ("x", svgNumber(x + 16)), ("y", "35")], [.text(name)]))
            x += 28 + Double(name.count) * 6.5
        }
        return .element("g", [("class", "legend")], parts)
    }
}

/// Grouped bars with confidence whiskers (the paper's Fig. 3 for latency, Figs. 1-2 for goodput
/// and cycles per byte): one group per point, one bar per series (mode, or run and mode).
/// The fill of a bar whose steps are suspect: grey, whatever its series.
let suspectColor = "#b8b8b8"

struct BarChart: Sendable {
    struct Bar: Equatable, Sendable {
        var value: Double
        /// The interval's ends, when there is one.
        var low: Double?
        var high: Double?
        /// What hovering the bar shows.
        var note: String
        /// Drawn grey: a step behind it is suspect (the note says why).
        var suspect = false
    }

    var title: String
    var yLabel: String
    var groups: [String]
    var series: [String]
    /// `bars[group][series]`; `nil` where a series has no value for a group.
    var bars: [[Bar?]]
    var frame = ChartFrame()

    var yScale: LinearScale {
        let top = bars.flatMap { $0 }.compactMap { $0.map { max($0.value, $0.high ?? $0.value) } }.max() ?? 1
        return LinearScale(domain: LinearScale.fromZero(to: top * 1.05), range: (frame.plotBottom, frame.plotTop))
    }

    /// Where bar `s` of group `g` stands: its left edge and width.
    func slot(group g: Int, series s: Int) -> (x: Double, width: Double) {
        let groupWidth = (frame.plotRight - frame.plotLeft) / Double(max(groups.count, 1))
        let inner = groupWidth * 0.8
        let width = inner / Double(max(series.count, 1))
        return (frame.plotLeft + groupWidth * Double(g) + groupWidth * 0.1 + width * Double(s), width)
    }

    func svg() -> SVGNode {
        let y = yScale
        var marks: [SVGNode] = []
        for (g, row) in bars.enumerated() {
            for (s, bar) in row.enumerated() {
                guard let bar else { continue }
                let (x, width) = slot(group: g, series: s)
                let top = y(bar.value)
                let color = bar.suspect ? suspectColor : seriesColors[s % seriesColors.count]
                marks.append(
                    .element(
                        "rect",
                        [
                            ("class", bar.suspect ? "bar suspect" : "bar"), ("x", svgNumber(x + 1)),
                            ("y", svgNumber(top)),
                            ("width", svgNumber(width - 2)),
                            ("height", svgNumber(max(frame.plotBottom - top, 0))), ("fill", color),
                        ], [.element("title", [], [.text(bar.note)])]))
                if let low = bar.low, let high = bar.high {
                    let cx = x + width / 2
                    let cap = min(width / 4, 6)
                    marks.append(
                        .element(
                            "g", [("class", "whisker")],
                            [
                                .element(
                                    "line",
                                    [
                                        ("x1", svgNumber(cx)), ("x2", svgNumber(cx)), ("y1", svgNumber(y(low))),
                                        ("y2", svgNumber(y(high))),
                                    ]),
                                .element(
                                    "line",
                                    [
                                        ("x1", svgNumber(cx - cap)), ("x2", svgNumber(cx + cap)),
                                        ("y1", svgNumber(y(high))), ("y2", svgNumber(y(high))),
                                    ]),
                                .element(
                                    "line",
                                    [
                                        ("x1", svgNumber(cx - cap)), ("x2", svgNumber(cx + cap)),
                                        ("y1", svgNumber(y(low))), ("y2", svgNumber(y(low))),
                                    ]),
                            ]))
                }
            }
        }
        let groupWidth = (frame.plotRight - frame.plotLeft) / Double(max(groups.count, 1))
        let ticks = groups.enumerated().map { (frame.plotLeft + groupWidth * (Double($0.offset) + 0.5), $0.element) }
        return ChartParts.root(
            frame, title: title,
            [
                ChartParts.yAxis(y, frame, label: yLabel), .element("g", [("class", "marks")], marks),
                ChartParts.xAxis(frame, label: "", ticks: ticks), ChartParts.legend(series, frame),
            ])
    }
}

/// Lines with optional confidence bands (the paper's Figs. 8-12: throughput and latency against
/// connections or threads), or the HdrHistogram percentile plot with a custom x axis.
struct LineChart: Sendable {
    struct Point: Equatable, Sendable {
        var x: Double
        var y: Double
        var low: Double?
        var high: Double?
        var note: String
    }

    struct Series: Equatable, Sendable {
        var name: String
        var points: [Point]
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]
    /// Custom x ticks (position in data units, label); `nil`: nice ticks of the x domain.
    var xTicks: [(Double, String)]? = nil
    var frame = ChartFrame()
    /// A logarithmic y axis (latency by percentile); confidence bands are not drawn on it.
    var logY = false
    /// Dashed vertical lines at these x values, each with its hover text (a history's change points).
    var verticals: [(x: Double, note: String)] = []
    /// Points drawn larger, ringed, over the lines (a history's current run).
    var highlighted: [Point] = []

    var xScale: LinearScale {
        let xs = series.flatMap { $0.points.map(\.x) } + (xTicks?.map(\.0) ?? [])
        let low = xs.min() ?? 0
        let high = xs.max() ?? 1
        return LinearScale(domain: (min(low, 0), high), range: (frame.plotLeft, frame.plotRight - 8))
    }

    var yScale: LinearScale {
        let top = series.flatMap { $0.points.map { max($0.y, $0.high ?? $0.y) } }.max() ?? 1
        return LinearScale(domain: LinearScale.fromZero(to: top * 1.05), range: (frame.plotBottom, frame.plotTop))
    }

    /// The log y axis over every point's value.
    var logYScale: LogScale {
        LogScale(values: series.flatMap { $0.points.map(\.y) }, range: (frame.plotBottom, frame.plotTop))
    }

    func svg() -> SVGNode {
        let x = xScale
        let linear = yScale
        let log = logYScale
        let y: (Double) -> Double = logY ? { log($0) } : { linear($0) }
        var marks: [SVGNode] = []
        for (s, line) in series.enumerated() {
            let color = seriesColors[s % seriesColors.count]
            let banded = line.points.filter { $0.low != nil && $0.high != nil }
            if banded.count >= 2 && !logY {
                let upper = banded.map { "\(svgNumber(x($0.x))),\(svgNumber(y($0.high!)))" }
                let lower = banded.reversed().map { "\(svgNumber(x($0.x))),\(svgNumber(y($0.low!)))" }
                marks.append(
                    .element(
                        "path",
                        [
                            ("class", "band"), ("d", "M" + (upper + lower).joined(separator: " L") + " Z"),
                            ("fill", color), ("fill-opacity", "0.18"), ("stroke", "none"),
                        ]))
            }
            marks.append(
                .element(
                    "polyline",
                    [
                        ("class", "line"),
                        (
                            "points",
                            line.points.map { "\(svgNumber(x($0.x))),\(svgNumber(y($0.y)))" }.joined(separator: " ")
                        ),
                        ("fill", "none"), ("stroke", color), ("stroke-width", "2"),
                    ]))
            for point in line.points where line.points.count <= 60 {
                marks.append(
                    .element(
                        "circle",
                        [("cx", svgNumber(x(point.x))), ("cy", svgNumber(y(point.y))), ("r", "3"), ("fill", color)],
                        [.element("title", [], [.text(point.note)])]))
            }
        }
        for line in verticals {
            marks.append(
                .element(
                    "line",
                    [
                        ("class", "change-point"), ("x1", svgNumber(x(line.x))), ("x2", svgNumber(x(line.x))),
                        ("y1", svgNumber(frame.plotTop)), ("y2", svgNumber(frame.plotBottom)), ("stroke", "#d62728"),
                        ("stroke-width", "1.5"), ("stroke-dasharray", "5 3"),
                    ], [.element("title", [], [.text(line.note)])]))
        }
        for point in highlighted {
            marks.append(
                .element(
                    "circle",
                    [
                        ("class", "current"), ("cx", svgNumber(x(point.x))), ("cy", svgNumber(y(point.y))), ("r", "6"),
                        ("fill", "none"), ("stroke", "#111"), ("stroke-width", "2"),
                    ], [.element("title", [], [.text(point.note)])]))
        }
        let ticks = (xTicks ?? x.ticks(6).map { ($0, tickLabel($0)) }).map { (x($0.0), $0.1) }
        return ChartParts.root(
            frame, title: title,
            [
                logY
                    ? ChartParts.yAxis(ticks: log.ticks().map { (log($0), $0) }, frame, label: yLabel)
                    : ChartParts.yAxis(linear, frame, label: yLabel),
                .element("g", [("class", "marks")], marks),
                ChartParts.xAxis(frame, label: xLabel, ticks: ticks), ChartParts.legend(series.map(\.name), frame),
            ])
    }
}
