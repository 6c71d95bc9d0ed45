import Foundation
import Shared

/// One agent's part of a finished step: its role, its result and the clock that places it on the
/// coordinator's timeline.
struct AgentSide {
    let index: Int
    let role: Role
    let name: String
    let result: SideResult
    /// The agent's clock over the step (estimates before and after).
    let clock: ClockTrack
    /// Interval samples the agent streamed during the step.
    let intervals: [IntervalSample]
    /// Whether the agent's starting thread spun into the start at SCHED_FIFO (`nil`: not reported).
    var realtimeStart: Bool? = nil
    /// A peer's share of the load when several peers split it.
    var share: Workload? = nil

    /// When this agent started, on the coordinator's timeline.
    var startedOnCoordinator: Int64 { clock.toCoordinator(result.startedNs) }
}

/// What one synchronized step measured on every agent, with the clocks needed to place it on the
/// coordinator's timeline. The workload's metrics come from its ``WorkloadMetrics`` (Metrics/);
/// what every workload shares (CPU, synchronization, intervals) from `StepOutcome+Samples`.
struct StepOutcome {
    let stepID: String
    let plan: PlannedStep
    /// Every agent of the step, in the session's order.
    var sides: [AgentSide]
    /// A plan's cell and repetition of this step; `nil` outside a plan.
    var cell: String? = nil
    var repetition: Int? = nil
    /// Labels the mode adds to every sample (`accel` of a `kvm` guest).
    var modeLabels: [String: String] = [:]
    /// The validity checks once the step is recorded (``StepChecks``); `nil` before.
    var checks: [StepCheck]?

    /// `valid` or `suspect` once checked.
    var verdict: Verdict? { checks.map(Verdict.init) }
    /// The checks that failed.
    var failedChecks: [StepCheck] { (checks ?? []).filter { !$0.passed } }

    var workload: Workload { plan.workload }
    /// The SUT agent's side.
    var sut: AgentSide { sides.first { $0.role == .sut }! }
    /// The peers' sides (none for a workload the SUT runs alone).
    var peers: [AgentSide] { sides.filter { $0.role == .peer } }
    /// The sides that ended the window by themselves (the workload's shape says which role).
    var enders: [AgentSide] { sides.filter { $0.role == workload.shape.windowEndedBy } }
    /// The side whose window the step's rates use: the peers as one, or the SUT running alone.
    var ender: AgentSide { workload.shape.windowEndedBy == .peer ? peer : sut }
    /// The peers as one side: the only peer's, or every peer's results merged (counts added,
    /// histograms merged exactly, threads and their CPU added) on the first peer's clock, with the
    /// mean of their window lengths, so rates are the total over the window. Only for workloads
    /// whose shape has peers.
    var peer: AgentSide {
        let all = peers
        precondition(!all.isEmpty, "step \(stepID) (\(workload.name)) has no peer")
        guard all.count > 1, let merged = SideOutcome.merged(all.map(\.result.outcome)) else { return all[0] }
        var result = all[0].result
        result.outcome = merged
        result.cpu = nil
        let lengths = all.map { $0.result.windowEndNs - $0.result.windowStartNs }
        result.windowEndNs = result.windowStartNs + lengths.reduce(0, +) / Int64(lengths.count)
        return AgentSide(
            index: all[0].index, role: .peer, name: "all", result: result, clock: all[0].clock, intervals: [])
    }

    /// This step as seen by one of its peers alone (the server side and that peer), for per-peer rows.
    func only(_ peer: AgentSide) -> StepOutcome {
        var one = self
        one.sides = sides.filter { $0.role != .peer } + [peer]
        return one
    }

    /// Start skew across every agent on the coordinator's timeline: the latest start minus the earliest.
    var startSkewNs: Int64 {
        let starts = sides.map(\.startedOnCoordinator)
        return (starts.max() ?? 0) - (starts.min() ?? 0)
    }

    /// Error bound of any cross-host comparison in this step: the two largest offset bounds added.
    var clockErrorNs: Int64 { sides.map(\.clock.errorNs).sorted(by: >).prefix(2).reduce(0, +) }

    /// The measurement window on the coordinator's timeline: the latest start to the earliest stop,
    /// within the windows (after warm-up) of the sides that end it.
    var window: (start: Int64, end: Int64) {
        let role = workload.shape.windowEndedBy
        let others = sides.filter { $0.role != role }
        let start = max(
            enders.map { $0.clock.toCoordinator($0.result.windowStartNs) }.max() ?? 0,
            others.map(\.startedOnCoordinator).max() ?? 0)
        let end = min(
            enders.map { $0.clock.toCoordinator($0.result.windowEndNs) }.min() ?? start,
            others.map { $0.clock.toCoordinator($0.result.stoppedNs) }.min() ?? .max)
        return (start, max(start, end))
    }

    /// Length of the measurement window of the side that ends it, on its own clock (no cross-host error).
    var windowSeconds: Double { Double(max(ender.result.windowEndNs - ender.result.windowStartNs, 1)) / 1e9 }

    /// Labels every sample of this step carries.
    func baseLabels(runID: String) -> [String: String] {
        var labels = workload.spec.labels
        labels["workload"] = workload.name
        labels["step"] = stepID
        labels["run"] = runID
        labels["mode"] = plan.placement.mode.rawValue
        labels.merge(modeLabels) { $1 }
        if let verdict { labels["verdict"] = verdict.rawValue }
        if let cell { labels["cell"] = cell }
        if let repetition { labels["repetition"] = String(repetition) }
        let digests = sides.compactMap { side in side.result.provenanceDigest.map { (side.name, $0) } }
        labels[ProvenanceLabel.key] = ProvenanceLabel(digests: Dictionary(digests) { a, _ in a }).label
        return labels
    }

    /// The value of the workload's first headline metric among `samples` (the step's own).
    func headline(in samples: [MetricSample]) -> Double? {
        guard let metric = workload.metrics.headline.first else { return nil }
        return samples.first { $0.metric == metric && $0.labels["kind"] != "interval" }?.value
    }

    /// `latency_mean_us 9.52` for progress output.
    static func headlineText(_ outcome: StepOutcome, _ value: Double?) -> String {
        let metric = outcome.workload.metrics.headline.first ?? "headline"
        return "\(metric) \(value.map { String(format: "%.4g", $0) } ?? "-")"
    }

    /// One line for progress output.
    static func describe(_ plan: PlannedStep) -> String {
        if let budget = plan.workload.spec.completionBudgetNs {
            return "\(plan.workload.spec.summary), to completion (at most \(seconds(budget)))"
        }
        return
            "\(plan.workload.spec.summary), \(seconds(plan.timing.warmupNs)) warm-up + \(seconds(plan.timing.durationNs))"
    }

    private static func seconds(_ ns: Int64) -> String { String(format: "%gs", Double(ns) / 1e9) }
}
