import Foundation
import Histogram
import Shared

/// The one seam between a workload's typed results and everything that shows them: the metric
/// rows of a step. samples.jsonl, summary.csv and the terminal tables render from these rows (and
/// so will the HTML report), so no metric is computed in two places.
protocol WorkloadMetrics {
    /// The workload's summary rows for a step; CPU, synchronization and interval rows are added for
    /// every workload by `StepOutcome.samples`.
    static func rows(_ outcome: StepOutcome, labels: [String: String]) -> [MetricSample]
    /// The terminal table's columns, each read from the rows (or the step's parameters).
    static var columns: [SummaryColumn] { get }
    /// The peer's latency histogram in nanoseconds, for `histograms/<step>.hgrm`; `nil` without one.
    static func latency(_ outcome: StepOutcome) -> Histogram<UInt64>?
    /// The metrics the mode ratio table compares, most telling first.
    static var headline: [String] { get }
    /// One peer's rows when several split the step (labelled `peer` by the caller); by default the
    /// workload's rows of the step as that peer alone saw it.
    static func peerRows(_ outcome: StepOutcome, peer: AgentSide, labels: [String: String]) -> [MetricSample]
}

extension WorkloadMetrics {
    static func peerRows(_ outcome: StepOutcome, peer: AgentSide, labels: [String: String]) -> [MetricSample] {
        rows(outcome.only(peer), labels: labels)
    }
}

extension Workload {
    /// The workload's metrics: the registry's one line per workload.
    var metrics: any WorkloadMetrics.Type {
        switch self {
        case .rr: RRMetrics.self
        case .stream: StreamMetrics.self
        case .redis: RedisMetrics.self
        case .mysql: MySQLMetrics.self
        }
    }
}

/// One column of a terminal table: a metric's value from the step's rows, or text from its parameters.
struct SummaryColumn: Sendable {
    enum Source: Sendable {
        /// The first summary row of this metric divided by `scale`, formatted with `format` (`-` when absent).
        case metric(String, format: String, scale: Double)
        /// Text that describes the step (its id, its parameters), not a measurement.
        case text(@Sendable (StepOutcome) -> String)
    }

    let header: String
    let source: Source

    static func metric(_ header: String, _ metric: String, _ format: String = "%.1f", scale: Double = 1)
        -> SummaryColumn
    {
        SummaryColumn(header: header, source: .metric(metric, format: format, scale: scale))
    }

    static func text(_ header: String, _ text: @escaping @Sendable (StepOutcome) -> String) -> SummaryColumn {
        SummaryColumn(header: header, source: .text(text))
    }

    /// The step id, first in every table.
    static let step = text("step") { $0.stepID }
}

/// Latency rows from a histogram in nanoseconds, for the workloads that have one.
enum LatencyRows {
    /// The mean, each percentile and the maximum, scaled to `unit` (`us` or `ms`).
    static func rows(
        _ histogram: Histogram<UInt64>, unit: String, percentiles: [(name: String, value: Double)],
        labels: [String: String]
    ) -> [MetricSample] {
        let scale = unit == "ms" ? 1e6 : 1e3
        func row(_ name: String, _ ns: Double) -> MetricSample {
            MetricSample(metric: "latency_\(name)_\(unit)", value: ns / scale, unit: unit, labels: labels)
        }
        return [row("mean", histogram.totalCount > 0 ? histogram.mean : 0)]
            + percentiles.map { row($0.name, Double(histogram.valueAtPercentile($0.value))) }
            + [row("max", Double(histogram.max))]
    }
}
