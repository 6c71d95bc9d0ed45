import Prometheus

extension PrometheusCollectorRegistry {
    /// The gauge `name` with `labels` (made once, then the same one).
    package func gauge(_ name: String, _ help: String, labels: [(String, String)] = []) -> Gauge {
        makeGauge(descriptor: Self.descriptor(name, help), labels: labels)
    }

    /// The counter `name` with `labels` (made once, then the same one).
    package func counter(_ name: String, _ help: String, labels: [(String, String)] = []) -> Counter {
        makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
    }

    /// The histogram `name` with `labels` and bucket bounds `buckets` (made once, then the same one).
    package func histogram(_ name: String, _ help: String, buckets: [Double], labels: [(String, String)] = [])
        -> ValueHistogram
    {
        makeValueHistogram(descriptor: Self.descriptor(name, help), labels: labels, buckets: buckets)
    }

    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
