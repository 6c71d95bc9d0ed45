import Shared

/// A figure of a workload's section in the report, as data: which metrics against which point,
/// grouped by series (run and mode). A workload declares its figures once
/// (``WorkloadMetrics/figures``) and ``ReportFigures`` draws any registered workload from them.
enum FigureSpec: Sendable {
    /// Bar charts: one group per point (text from the spec), one bar per series, whiskers at the
    /// mean's confidence interval.
    case bars(Bars)
    /// Each series' latency by percentile from its first repetition's histogram, one chart per
    /// point, on HdrHistogram's percentile axis and a logarithmic latency axis.
    case percentiles(Percentiles)
    /// Lines against a numeric parameter of the spec (one of its labels), with confidence bands.
    case sweep(Sweep)

    /// One chart: its title, its y axis, and the metrics it draws. Several metrics make one group
    /// per point and metric, named by the point and the metric's suffix.
    struct Chart: Sendable {
        var title: String
        var yLabel: String
        var metrics: [(metric: Metric, suffix: String)]

        init(_ title: String, yLabel: String, _ metrics: [(metric: Metric, suffix: String)]) {
            self.title = title
            self.yLabel = yLabel
            self.metrics = metrics
        }

        init(_ title: String, yLabel: String, _ metric: Metric) {
            self.init(title, yLabel: yLabel, [(metric, "")])
        }
    }

    struct Bars: Sendable {
        var id: String
        var title: String
        var caption: String
        /// The point a cell's spec stands for (a group of bars).
        var point: @Sendable (Workload) -> String
        var charts: [Chart]
        /// The metrics of the table under the figure.
        var table: [Metric]
    }

    struct Percentiles: Sendable {
        var id: String
        var title: String
        var caption: String
        var point: @Sendable (Workload) -> String
    }

    struct Sweep: Sendable {
        var id: String
        var title: String
        var caption: String
        /// The spec label that is the x axis (`connections`, `threads`).
        var x: String
        var xLabel: String
        var charts: [Chart]
        var table: [Metric]
        /// Draws the open-loop cells (those with a `rate`) instead of the closed-loop ones.
        var openLoop = false
    }

    /// Open loop: latency against the offered rate (the curve a capacity planner reads), the achieved
    /// rate beside it; the table adds the late requests. Drawn where a run swept `--rate`.
    static func latencyAgainstLoad(
        id: String, title: String, rate: Metric, latency: LatencyMetrics
    ) -> FigureSpec {
        let p99 = latency.percentiles.first { $0.percentile == 99 }?.metric ?? latency.max
        return .sweep(
            Sweep(
                id: id, title: title,
                caption:
                    "Open loop (--rate): every request sent at its intended time and timed from it, so a stall shows in the latency of every request it held up. Latency against the offered rate, and the rate achieved; a sweep stops where the achieved rate falls more than 5% short.",
                x: "rate", xLabel: "offered rate (/s)",
                charts: [
                    Chart("99th percentile latency", yLabel: "latency (\(latency.unit))", p99),
                    Chart("mean latency", yLabel: "latency (\(latency.unit))", latency.mean),
                    Chart("achieved rate", yLabel: rate.unit, rate),
                ],
                table: [CommonMetrics.offeredRate, rate, latency.mean, p99, CommonMetrics.lateRequests],
                openLoop: true))
    }

    /// A sweep of a server's rate and mean latency against a parameter of the spec, the table adding
    /// the SUT's CPU per operation (the Redis and MySQL figures).
    static func rateAndLatency(
        id: String, title: String, caption: String, x: String, rate: Metric, rateLabel: String, latency: Metric
    ) -> FigureSpec {
        .sweep(
            Sweep(
                id: id, title: title, caption: caption, x: x, xLabel: x,
                charts: [
                    Chart(rateLabel, yLabel: rateLabel, rate),
                    Chart("mean latency", yLabel: "latency (\(latency.unit))", latency),
                ],
                table: [rate, latency, CommonMetrics.sutCPUPerOp]))
    }
}
