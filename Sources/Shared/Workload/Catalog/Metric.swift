/// One metric a workload (or every step) reports, declared once: its name, unit, kind, help text
/// and which way is better. Tables, samples, aggregates, the report and exporters read these
/// declarations instead of spelling names and units again (as swift-prometheus and OpenMetrics
/// declare a metric's name, help, type and unit together).
package struct Metric: Hashable, Sendable {
    /// How a value of the metric behaves over time, in OpenMetrics' terms.
    package enum Kind: String, Codable, Sendable {
        /// A count of events in the step's window (transactions, bytes, errors).
        case counter
        /// A level or rate measured over the window (transactions/s, CPU %, a clock bound).
        case gauge
        /// A value read from a latency distribution (a mean or a percentile).
        case histogram
    }

    /// Which direction of change is an improvement.
    package enum Better: String, Codable, Sendable {
        case higher
        case lower
        /// Neither: a count of what was done or a description (keys created, window length).
        case neither
    }

    /// The metric's name in samples, `transactions_per_sec`.
    package let name: String
    /// Its unit as samples carry it, `transactions/s`.
    package let unit: String
    /// Counter, gauge or histogram.
    package let kind: Kind
    /// One line for people: what the value means.
    package let help: String
    /// Which way is an improvement.
    package let better: Better
    /// The percentile (0...100) a latency metric reads off its histogram; `nil` for any other metric.
    package let percentile: Double?

    package init(_ name: String, unit: String, kind: Kind, better: Better, help: String, percentile: Double? = nil) {
        self.name = name
        self.unit = unit
        self.kind = kind
        self.better = better
        self.help = help
        self.percentile = percentile
    }

    /// A sample of this metric.
    package func sample(_ value: Double, _ labels: [String: String]) -> MetricValue {
        MetricValue(metric: name, value: value, unit: unit, labels: labels)
    }
}

/// A value of a metric with its labels: what a sample line of `samples.jsonl` holds.
package struct MetricValue: Codable, Equatable, Sendable {
    /// The metric's name.
    package var metric: String
    /// The value, in `unit`.
    package var value: Double
    /// The metric's unit.
    package var unit: String
    /// The step's parameters and placement, the host and role where it is one agent's.
    package var labels: [String: String]

    package init(metric: String, value: Double, unit: String, labels: [String: String]) {
        self.metric = metric
        self.value = value
        self.unit = unit
        self.labels = labels
    }
}

/// A workload's metrics: every metric it reports, and the headline ones (the first is what a plan's
/// stopping rule and the progress line read; the rest lead the ratio table).
package struct MetricCatalog: Sendable {
    /// Every metric, in the order tables show them.
    package let metrics: [Metric]
    /// The metrics the mode ratio table compares, most telling first.
    package let headline: [Metric]

    package init(_ metrics: [Metric], headline: [Metric]) {
        var seen = Set<String>()
        self.metrics = (metrics + headline).filter { seen.insert($0.name).inserted }
        self.headline = headline
    }
}

/// Latency metrics read from one histogram: mean, named percentiles and maximum, in one unit.
package struct LatencyMetrics: Sendable {
    /// `us` or `ms`.
    package let unit: String
    /// `latency_mean_UNIT`.
    package let mean: Metric
    /// Each percentile's metric and the percentile it reads (`p99` at 99).
    package let percentiles: [(metric: Metric, percentile: Double)]
    /// `latency_max_UNIT`.
    package let max: Metric

    /// `latency_mean_us`, `latency_p50_us`, ... for the percentiles named like `p999` (99.9);
    /// another `prefix` than `latency` names fio's `clat_mean_us`, ...
    package init(
        unit: String, percentiles: [(name: String, value: Double)], of what: String, prefix: String = "latency"
    ) {
        self.unit = unit
        func metric(_ name: String, _ help: String, _ percentile: Double? = nil) -> Metric {
            Metric(
                "\(prefix)_\(name)_\(unit)", unit: unit, kind: .histogram, better: .lower, help: help,
                percentile: percentile)
        }
        mean = metric("mean", "mean latency of \(what)")
        self.percentiles = percentiles.map {
            (metric($0.name, "\($0.value)th percentile latency of \(what)", $0.value), $0.value)
        }
        max = metric("max", "largest latency of \(what)")
    }

    /// Every latency metric, mean first.
    package var all: [Metric] { [mean] + percentiles.map(\.metric) + [max] }

    /// Nanoseconds per unit.
    package var scale: Double { unit == "ms" ? 1e6 : 1e3 }
}
