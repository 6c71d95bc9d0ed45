import Foundation
import Shared

/// One step as observers see it: its id, cell and repetition, workload, mode and the unit of its
/// per-second rate.
struct ObservedStep: Sendable, Equatable {
    var id: String
    /// The plan's cell (a command's step is its own cell).
    var cell: String
    var repetition: Int?
    var workload: String
    var mode: String
    var rateUnit: String
}

/// What watches a run while it goes (`--serve`, `--metrics`, `--events`, `--grafana`): told of each
/// step and interval sample as the run learns them. Called from the run's own task and from the
/// mailbox's reader; an observer copies what it needs and returns at once (no I/O that can block
/// the run: a file write at most), so a slow scraper or browser never holds a step.
protocol RunObserver: Sendable {
    func runBegan(runID: String, directory: String, command: String, startedAt: String)
    func stepBegan(_ step: ObservedStep, done: Int, total: String, lengthNs: Int64, remainingNs: Int64)
    /// An event the coordinator's log records (`step.ready`, `step.started`, ...).
    func logged(_ record: LogRecord)
    /// An interval sample of one agent (`load`: from the side whose rate is the step's).
    func interval(_ step: ObservedStep, agent: String, role: Role, sample: IntervalSample, load: Bool)
    /// The clock of an agent after a sync: its offset and the bound of that offset.
    func clock(agent: String, role: Role, offsetNs: Int64, errorNs: Int64)
    func stepFinished(_ step: ObservedStep, samples: [MetricSample], outcome: StepOutcome, windowWall: DateInterval?)
    func stepFailed(_ step: ObservedStep, error: String)
    /// A plan's aggregates after a step (every cell so far).
    func aggregates(_ rows: [AggregateRow])
    func runEnded(status: RunStatus, error: String?)
}

extension RunObserver {
    func runBegan(runID: String, directory: String, command: String, startedAt: String) {}
    func stepBegan(_ step: ObservedStep, done: Int, total: String, lengthNs: Int64, remainingNs: Int64) {}
    func logged(_ record: LogRecord) {}
    func interval(_ step: ObservedStep, agent: String, role: Role, sample: IntervalSample, load: Bool) {}
    func clock(agent: String, role: Role, offsetNs: Int64, errorNs: Int64) {}
    func stepFinished(_ step: ObservedStep, samples: [MetricSample], outcome: StepOutcome, windowWall: DateInterval?) {}
    func stepFailed(_ step: ObservedStep, error: String) {}
    func aggregates(_ rows: [AggregateRow]) {}
    func runEnded(status: RunStatus, error: String?) {}
}

/// Several observers as one, each told in order.
struct RunObservers: RunObserver {
    var all: [any RunObserver]

    func runBegan(runID: String, directory: String, command: String, startedAt: String) {
        for o in all { o.runBegan(runID: runID, directory: directory, command: command, startedAt: startedAt) }
    }
    func stepBegan(_ step: ObservedStep, done: Int, total: String, lengthNs: Int64, remainingNs: Int64) {
        for o in all { o.stepBegan(step, done: done, total: total, lengthNs: lengthNs, remainingNs: remainingNs) }
    }
    func logged(_ record: LogRecord) { for o in all { o.logged(record) } }
    func interval(_ step: ObservedStep, agent: String, role: Role, sample: IntervalSample, load: Bool) {
        for o in all { o.interval(step, agent: agent, role: role, sample: sample, load: load) }
    }
    func clock(agent: String, role: Role, offsetNs: Int64, errorNs: Int64) {
        for o in all { o.clock(agent: agent, role: role, offsetNs: offsetNs, errorNs: errorNs) }
    }
    func stepFinished(_ step: ObservedStep, samples: [MetricSample], outcome: StepOutcome, windowWall: DateInterval?) {
        for o in all { o.stepFinished(step, samples: samples, outcome: outcome, windowWall: windowWall) }
    }
    func stepFailed(_ step: ObservedStep, error: String) { for o in all { o.stepFailed(step, error: error) } }
    func aggregates(_ rows: [AggregateRow]) { for o in all { o.aggregates(rows) } }
    func runEnded(status: RunStatus, error: String?) { for o in all { o.runEnded(status: status, error: error) } }
}

extension ObservedStep {
    init(_ id: String, cell: String?, repetition: Int?, step: PlannedStep) {
        self.init(
            id: id, cell: cell ?? id, repetition: repetition, workload: step.workload.name,
            mode: step.placement.mode.rawValue,
            rateUnit: (step.workload.type.intervalRate ?? CommonMetrics.Interval.transactionsPerSec).unit)
    }
}
