import Foundation
import Histogram
import Shared

/// The coordinator's side of a workload type: the one seam between its typed results and everything
/// that shows them. samples.jsonl, summary.csv, the terminal tables, the aggregates and the report
/// render from the rows and the ``WorkloadType/catalog``, so no metric is computed or named in two
/// places. The built-in workloads conform in `Metrics/<Workload>+Metrics.swift`; a workload
/// registered elsewhere conforms where it is declared.
protocol WorkloadMetrics: WorkloadType {
    /// The workload's summary rows for a step; CPU, synchronization and interval rows are added for
    /// every workload by `StepOutcome.samples`.
    static func rows(_ outcome: StepOutcome, labels: [String: String]) -> [MetricSample]
    /// The terminal table's columns, each read from the rows (or the step's parameters).
    static var columns: [SummaryColumn] { get }
    /// The latency histogram in nanoseconds, for `histograms/<step>.hgrm`; `nil` without one.
    static func latency(_ outcome: StepOutcome) -> Histogram<UInt64>?
    /// One peer's rows when several split the step (labelled `peer` by the caller); by default the
    /// workload's rows of the step as that peer alone saw it.
    static func peerRows(_ outcome: StepOutcome, peer: AgentSide, labels: [String: String]) -> [MetricSample]
    /// The report's section for the workload, as data.
    static var figures: [FigureSpec] { get }
    /// The options a plan's experiment of this workload is parsed with (`nil`: plans cannot name it).
    static var options: (any WorkloadOptions.Type)? { get }
}

extension WorkloadMetrics {
    static func latency(_ outcome: StepOutcome) -> Histogram<UInt64>? { nil }

    static func peerRows(_ outcome: StepOutcome, peer: AgentSide, labels: [String: String]) -> [MetricSample] {
        rows(outcome.only(peer), labels: labels)
    }

    static var figures: [FigureSpec] { [] }
    static var options: (any WorkloadOptions.Type)? { nil }

    /// The headline metrics' names, most telling first (the first is the stopping rule's).
    static var headline: [String] { catalog.headline.map(\.name) }

    /// The step's spec as this workload's, for table columns (`nil` for another workload's step).
    static func spec(_ outcome: StepOutcome) -> Spec? { outcome.workload.spec(Spec.self) }

    /// A text column from the step's spec (`-` for another workload's step).
    static func column(_ header: String, _ text: @escaping @Sendable (Spec) -> String) -> SummaryColumn {
        .text(header) { spec($0).map(text) ?? "-" }
    }
}

/// A workload whose peers run a load generator that times each operation: its client result (the
/// peers' merged) and that result's latency histogram come from here.
protocol GeneratorMetrics: WorkloadMetrics {
    associatedtype Client: WorkloadResult & LatencyRecording
}

extension GeneratorMetrics {
    /// The peers' merged generator result.
    static func client(_ o: StepOutcome) -> Client? { o.peer.result.outcome.as(Client.self) }

    static func latency(_ o: StepOutcome) -> Histogram<UInt64>? { client(o)?.latency.histogram() }
}

extension Workload {
    /// The coordinator's side of the workload's type.
    var metrics: any WorkloadMetrics.Type {
        guard let metrics = type as? any WorkloadMetrics.Type else {
            preconditionFailure("workload \(name) has no WorkloadMetrics conformance in the coordinator")
        }
        return metrics
    }
}

/// One column of a terminal table: a metric's value from the step's rows, or text from its parameters.
struct SummaryColumn: Sendable {
    enum Source: Sendable {
        /// The first summary row of this metric divided by `scale`, formatted with `format` (`-` when
        /// absent, `n/a (needs N)` for a percentile withheld for too few samples).
        case metric(String, format: String, scale: Double, percentile: Double?)
        /// Text that describes the step (its id, its parameters), not a measurement.
        case text(@Sendable (StepOutcome) -> String)
    }

    let header: String
    let source: Source

    static func metric(_ header: String, _ metric: Metric, _ format: String = "%.1f", scale: Double = 1)
        -> SummaryColumn
    {
        SummaryColumn(
            header: header, source: .metric(metric.name, format: format, scale: scale, percentile: metric.percentile))
    }

    static func text(_ header: String, _ text: @escaping @Sendable (StepOutcome) -> String) -> SummaryColumn {
        SummaryColumn(header: header, source: .text(text))
    }

    /// The step id, first in every table.
    static let step = text("step") { $0.stepID }
    /// The step's verdict: `valid`, or `SUSPECT` and the checks that failed.
    static let verdict = text("verdict") { o in
        guard let verdict = o.verdict else { return "-" }
        return verdict == .valid ? "valid" : "SUSPECT: " + o.failedChecks.map(\.name).joined(separator: ",")
    }
    /// The SUT host's CPU utilization.
    static let sutCPU = metric("SUT cpu%", CommonMetrics.cpuUtil(.sut))
    /// The start skew across the step's agents.
    static let skew = metric("skew us", CommonMetrics.startSkew, "%.0f")
}

extension CommonMetrics {
    /// An open-loop step's offered rate and late requests (none in closed loop).
    static func openLoopRows(_ load: LoadThreads, _ o: StepOutcome, labels: [String: String]) -> [MetricSample] {
        guard let rate = (o.plan.workload.spec as? any OpenLoopSpec)?.rate else { return [] }
        return [offeredRate.sample(rate, labels), lateRequests.sample(Double(load.lateRequests ?? 0), labels)]
    }
}

extension LatencyMetrics {
    /// `latency_mean_us` for `latency_p999_us`: the mean of the same histogram.
    static func meanName(of percentileName: String) -> String {
        percentileName.split(separator: "_").map { (part: Substring) -> String in
            let isPercentile = part.count > 1 && part.first == "p" && part.dropFirst().allSatisfy { $0.isNumber }
            return isPercentile ? "mean" : String(part)
        }.joined(separator: "_")
    }

    /// The mean, each percentile and the maximum of a histogram in nanoseconds, in this unit. A
    /// percentile the histogram has too few samples for (``ValidityStatistics/samplesNeeded(percentile:)``:
    /// p99 needs 700, p99.9 7,000) is not written: tables show it as `n/a (needs N)`.
    func rows(_ histogram: Histogram<UInt64>, labels: [String: String]) -> [MetricSample] {
        let n = Int(histogram.totalCount)
        return [mean.sample((n > 0 ? histogram.mean : 0) / scale, labels)]
            + percentiles.filter { n >= ValidityStatistics.samplesNeeded(percentile: $0.percentile) }.map {
                $0.metric.sample(Double(histogram.valueAtPercentile($0.percentile)) / scale, labels)
            }
            + [max.sample(Double(histogram.max) / scale, labels)]
    }
}
