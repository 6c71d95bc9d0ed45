import Shared

extension Metric {
    /// The declared metric of this name: the first registered workload's catalog that has it, then the
    /// common metrics (CPU, skew, window, the interval rows); `nil` for a name nothing declares.
    static func named(_ name: String) -> Metric? {
        for type in WorkloadRegistry.all {
            if let metric = type.catalog.metrics.first(where: { $0.name == name }) { return metric }
        }
        let common =
            CommonMetrics.all + [CommonMetrics.Interval.latencyMean, CommonMetrics.Interval.cpuUtil]
        return common.first { $0.name == name }
    }
}

extension Metric.Better {
    /// Whether `b` is worse than `a` for a metric this way round (never for `neither`).
    func isWorse(_ b: Double, than a: Double) -> Bool {
        switch self {
        case .lower: b > a
        case .higher: b < a
        case .neither: false
        }
    }
}
