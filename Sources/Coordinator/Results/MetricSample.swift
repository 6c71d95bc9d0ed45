/// One line of `samples.jsonl`: the shape PerfKitBenchmarker users know.
struct MetricSample: Codable, Sendable {
    var metric: String
    var value: Double
    var unit: String
    var labels: [String: String]
}
