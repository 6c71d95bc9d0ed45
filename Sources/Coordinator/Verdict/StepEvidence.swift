import Foundation
import Histogram
import Shared

/// What the validity checks read of one step, taken from its outcome when it is recorded and kept
/// in `checks/<step>.json`, so that `lockstep check` computes the same verdicts again from the
/// results folder alone.
struct StepEvidence: Codable, Equatable, Sendable {
    /// One peer's generator threads: each one's busy share of the window (CPU time over window time).
    struct Generator: Codable, Equatable, Sendable {
        var agent: String
        var threadBusy: [Double]
        /// The CPUs each thread was seen on through the window.
        var threadCPUs: [[Int]]?
    }

    /// One host's CPU used by processes outside the step, per second of the window.
    struct Host: Codable, Equatable, Sendable {
        var agent: String
        var role: String
        /// CPU-seconds per second (1.0 is one whole CPU).
        var othersCPU: Double
        var top: [ProcessCPU]
    }

    /// A percentile with its 95% order-statistic interval, microseconds (or the metric's unit).
    struct Percentile: Codable, Equatable, Sendable {
        var q: Double
        var value: Double
        var low: Double
        var high: Double
    }

    var step: String
    var workload: String
    var windowSeconds: Double
    var warmupSeconds: Double
    /// The step ran an external engine to completion (no window of its own: fio, hpcc, xz).
    var completion: Bool
    var generators: [Generator]
    /// Open loop: the intended and the achieved rate, and how sends were spaced.
    var offeredRate: Double?
    var achievedRate: Double?
    var arrivals: String?
    var sendGapsUs: [Float]?
    var latencySeries: LatencySeries?
    /// Samples in the step's latency histogram and its percentiles with their intervals.
    var latencyCount: Int?
    var percentiles: [Percentile]?
    /// The headline rate per whole second of the window (the ender's intervals, peers added).
    var rateSeries: [Double]
    var hosts: [Host]
    /// The busiest of the SUT's CPUs (its pinned CPUs where it is pinned), share of the window.
    var sutBusiestCPU: Double?

    /// The percentiles reported with their intervals, where the histogram has enough samples.
    static let percentilesShown: [Double] = [50, 90, 99, 99.9, 99.99]
}

extension StepEvidence {
    /// The evidence of a finished step; `samples` are its own (for the achieved rate).
    init(_ o: StepOutcome, samples: [MetricSample]) {
        step = o.stepID
        workload = o.workload.name
        windowSeconds = o.windowSeconds
        warmupSeconds = Double(o.plan.timing.warmupNs) / 1e9
        completion = o.workload.spec.completionBudgetNs != nil
        generators = o.peers.compactMap { side in
            guard let threads = side.result.outcome.value.generatorLoad?.threadCPUSeconds else { return nil }
            let seconds = Double(max(side.result.windowEndNs - side.result.windowStartNs, 1)) / 1e9
            return Generator(
                agent: side.name, threadBusy: threads.map { $0 / seconds },
                threadCPUs: side.result.outcome.value.generatorLoad?.threadCPUs)
        }
        let load = o.peers.first?.result.outcome.value.generatorLoad
        offeredRate = o.plan.openLoopRate
        achievedRate = offeredRate == nil ? nil : BenchmarkRun.achievedRate(o, samples: samples)
        arrivals = offeredRate == nil ? nil : (o.workload.spec.labels["arrivals"] ?? "uniform")
        sendGapsUs = offeredRate == nil ? nil : load?.sendGapsUs
        latencySeries = load?.latencySeries
        if let histogram = o.workload.metrics.latency(o), histogram.totalCount > 0 {
            let n = Int(histogram.totalCount)
            latencyCount = n
            percentiles = Self.percentilesShown.filter { n >= ValidityStatistics.samplesNeeded(percentile: $0) }.map {
                q in
                let ranks = ValidityStatistics.percentileRanks(q, n: n)
                return Percentile(
                    q: q, value: Double(histogram.valueAtPercentile(q)) / 1e3,
                    low: Double(histogram.valueAtPercentile(ranks.low)) / 1e3,
                    high: Double(histogram.valueAtPercentile(ranks.high)) / 1e3)
            }
        }
        rateSeries = Self.rateSeries(o)
        hosts = o.sides.compactMap { side in
            guard let cpu = side.result.cpu, let others = cpu.others, cpu.wallSeconds > 0 else { return nil }
            return Host(
                agent: side.name, role: side.role.rawValue,
                othersCPU: others.cpuSeconds / max(others.seconds ?? cpu.wallSeconds, 1e-3),
                top: others.top)
        }
        let meter = o.sides.first { $0.role == .host } ?? o.sides.first { $0.role == .sut }
        if let perCPU = meter?.result.cpu?.perCPUPercent, !perCPU.isEmpty {
            let pinned = o.plan.placement.sutCPUs.map(Set.init)
            let shares = perCPU.filter { pinned?.contains($0.key) ?? true }.map(\.value)
            sutBusiestCPU = (shares.max() ?? perCPU.values.max() ?? 0) / 100
        }
    }

    /// The ender's rate per whole second inside its window (several peers' seconds added by index).
    static func rateSeries(_ o: StepOutcome) -> [Double] {
        let enders = o.workload.shape.windowEndedBy == .peer ? o.peers : [o.sut]
        var byIndex: [Int: Double] = [:]
        for side in enders {
            for interval in side.intervals {
                let start = interval.tNs - interval.lengthNs
                guard start >= side.result.windowStartNs - 50_000_000,
                    interval.tNs <= side.result.windowEndNs + 50_000_000, interval.lengthNs >= 900_000_000
                else { continue }
                byIndex[interval.index, default: 0] += interval.gbps ?? interval.transactionsPerSecond
            }
        }
        return byIndex.keys.sorted().map { byIndex[$0]! }
    }
}
