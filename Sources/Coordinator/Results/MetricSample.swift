import Shared

/// One line of `samples.jsonl`: the shape PerfKitBenchmarker users know (metric, value, unit,
/// labels). Made from a catalog's ``Metric`` with `metric.sample(value, labels)`.
typealias MetricSample = MetricValue
