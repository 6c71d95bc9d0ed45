import Shared

/// One step as a schedule hands it out: its id, what it runs and, in a plan, its cell and repetition.
struct ScheduledStep: Equatable, Sendable {
    var id: String
    var planned: PlannedStep
    /// The plan's cell the step repeats; `nil` outside a plan.
    var cell: String?
    /// Which repetition of its cell, from 1; `nil` outside a plan.
    var repetition: Int?
}

/// The steps of a run in the order they run. A workload command's list is fixed; a plan's depends on
/// what earlier repetitions measured (its stopping rule), so the run reports every result back.
protocol StepSchedule {
    /// The next step, or `nil` when the run is done.
    mutating func next() -> ScheduledStep?
    /// What a finished step measured: its headline metric (the first of its workload's headline).
    mutating func record(_ step: ScheduledStep, headline: Double?)
    /// The steps not yet recorded (the one handed out last included), as far as known now, and at most.
    var remaining: (expected: Int, atMost: Int) { get }
    /// An open-loop step fell short of its offered rate: the steps still to come that differ from it
    /// only by a higher rate are dropped (the SUT is past saturation there); their ids.
    mutating func saturated(_ step: ScheduledStep) -> [String]
}

extension StepSchedule {
    /// A plan's cells all run (its cells are compared across repetitions and modes).
    mutating func saturated(_ step: ScheduledStep) -> [String] { [] }
}

/// A workload command's steps, each once, in order.
struct FixedSchedule: StepSchedule {
    private var steps: [ScheduledStep]
    private var position = 0
    private var recorded = 0

    init(ids: [String], steps: [PlannedStep]) {
        self.steps = zip(ids, steps).map { ScheduledStep(id: $0, planned: $1) }
    }

    mutating func next() -> ScheduledStep? {
        guard position < steps.count else { return nil }
        defer { position += 1 }
        return steps[position]
    }

    mutating func record(_ step: ScheduledStep, headline: Double?) { recorded += 1 }

    var remaining: (expected: Int, atMost: Int) { (steps.count - recorded, steps.count - recorded) }

    mutating func saturated(_ step: ScheduledStep) -> [String] {
        guard let rate = step.planned.openLoopRate else { return [] }
        let later = steps[position...].filter { next in
            guard let r = next.planned.openLoopRate, r > rate else { return false }
            return next.planned.withoutRate == step.planned.withoutRate
        }
        let dropped = Set(later.map(\.id))
        steps.removeAll { dropped.contains($0.id) }
        return later.map(\.id)
    }
}

extension PlannedStep {
    /// The step's open-loop rate; `nil` in closed loop.
    var openLoopRate: Double? { (workload.spec as? any OpenLoopSpec)?.rate }

    /// The step with its workload in closed loop: two steps of one rate sweep are equal so.
    var withoutRate: PlannedStep {
        guard var spec = workload.spec as? any OpenLoopSpec else { return self }
        spec.rate = nil
        var copy = self
        copy.workload = Workload(spec)
        return copy
    }
}

/// A plan's schedule: rounds of repetitions. Round r runs repetition r of every cell that still
/// needs one (fewer than `minimum`, or short of the confidence width and fewer than `maximum`), in a
/// shuffle seeded by the plan's seed and r, or in plan order. A round's set depends only on the
/// rounds before it, so the same seed and the same results give the same order, and a resumed run
/// replays the finished steps' results to arrive where it stopped.
struct PlanSchedule: StepSchedule {
    private let cells: [(id: String, step: PlannedStep)]
    private let rule: RepetitionRule
    private(set) var values: [String: [Double]] = [:]
    private var round = 0
    private var queue: [Int] = []

    init(cells: [(id: String, step: PlannedStep)], rule: RepetitionRule) {
        self.cells = cells
        self.rule = rule
    }

    /// Whether a cell with these headline values is done.
    static func isDone(_ values: [Double], rule: RepetitionRule) -> Bool {
        if values.count < rule.minimum { return false }
        if values.count >= rule.maximum { return true }
        return Statistics.summary(values, level: rule.level)?.meets(widthPercent: rule.widthPercent) ?? false
    }

    mutating func next() -> ScheduledStep? {
        while queue.isEmpty {
            guard round < rule.maximum else { return nil }
            round += 1
            let due = cells.indices.filter { i in
                let done = values[cells[i].id, default: []]
                return done.count == round - 1 && !Self.isDone(done, rule: rule)
            }
            guard !due.isEmpty else { return nil }
            queue = rule.shuffle ? Self.shuffled(due, seed: rule.seed, round: round) : due
        }
        let i = queue.removeFirst()
        return ScheduledStep(
            id: "\(cells[i].id)-r\(round)", planned: cells[i].step, cell: cells[i].id, repetition: round)
    }

    mutating func record(_ step: ScheduledStep, headline: Double?) {
        guard let cell = step.cell else { return }
        // A step without its headline (a metric the workload could not measure) still counts as run.
        values[cell, default: []].append(headline ?? .nan)
    }

    var remaining: (expected: Int, atMost: Int) {
        var expected = 0
        var most = 0
        for cell in cells {
            let done = values[cell.id, default: []]
            if !Self.isDone(done, rule: rule) {
                expected += max(rule.minimum - done.count, 1)
                most += rule.maximum - done.count
            }
        }
        return (expected, most)
    }

    /// Fisher-Yates with SplitMix64 seeded by the plan's seed and the round.
    static func shuffled(_ items: [Int], seed: UInt64, round: Int) -> [Int] {
        var rng = SplitMix64(seed: seed &+ UInt64(round) &* 0x9E37_79B9_7F4A_7C15)
        var out = items
        for i in stride(from: out.count - 1, to: 0, by: -1) {
            let j = Int(rng.next() % UInt64(i + 1))
            out.swapAt(i, j)
        }
        return out
    }
}

/// How a plan repeats each cell: netperf's `-i max,min` and `-I level,width`, with the order.
struct RepetitionRule: Codable, Equatable, Sendable {
    var minimum: Int
    var maximum: Int
    /// Confidence level, 0.95 or 0.99.
    var level: Double
    /// Target full width of the interval, percent of the mean.
    var widthPercent: Double
    /// Shuffle each round (seeded) or run the cells in plan order.
    var shuffle: Bool
    var seed: UInt64
    /// Pause between steps.
    var cooldownNs: Int64
}
