import Foundation
import Histogram
import Shared
import Synchronization

@testable import Agent
@testable import Coordinator

/// A workload that exists only in this test target: the SUT alone spins on one thread for the step's
/// window and counts iterations. It is declared here once (spec, result, shape, catalog, engine,
/// rows, columns and figure) and registered at run time, with no edit to anything in Sources: the
/// proof that a workload is one type.
enum SpinWorkload: WorkloadType, EngineWorkload, WorkloadMetrics {
    typealias Spec = SpinSpec

    static let shape = WorkloadShape.sutOnly

    static let iterationsPerSec = Metric(
        "iterations_per_sec", unit: "iterations/s", kind: .gauge, better: .higher,
        help: "loop iterations per second on the SUT in the window")
    static let iterations = Metric(
        "iterations", unit: "iterations", kind: .counter, better: .neither, help: "loop iterations in the window")

    static let catalog = MetricCatalog(
        [iterationsPerSec, iterations, CommonMetrics.window],
        headline: [iterationsPerSec, CommonMetrics.sutCPUPerOp])

    static let resultTypes: [any WorkloadResult.Type] = [SpinResult.self]

    static func resultType(of spec: SpinSpec, role: Role) -> (any WorkloadResult.Type)? {
        role == .sut ? SpinResult.self : nil
    }

    static var intervalRate: Metric? { iterationsPerSec }

    /// Registers the workload in this process (agent and coordinator alike); idempotent.
    static func register() { WorkloadRegistry.register(SpinWorkload.self) }

    // MARK: Agent

    static func engine(_ spec: SpinSpec, step: StepSpec, context: EngineContext) throws -> any Engine {
        SpinEngine(step: step, events: context.events)
    }

    // MARK: Coordinator

    static func rows(_ outcome: StepOutcome, labels: [String: String]) -> [MetricSample] {
        guard let r = outcome.sut.result.outcome.as(SpinResult.self) else { return [] }
        let seconds = outcome.windowSeconds
        return [
            iterationsPerSec.sample(Double(r.iterations) / seconds, labels),
            iterations.sample(Double(r.iterations), labels), CommonMetrics.window.sample(seconds, labels),
        ]
    }

    static let columns: [SummaryColumn] = [
        .step, column("threads") { String($0.threads) }, .metric("iterations/s", iterationsPerSec, "%.0f"), .sutCPU,
    ]

    static let figures: [FigureSpec] = [
        .bars(
            .init(
                id: "spin", title: "Spin: iterations per second", caption: "A test-only SUT workload.",
                point: { _ in "spin" },
                charts: [.init("iterations per second", yLabel: "iterations/s", iterationsPerSec)],
                table: [iterationsPerSec]))
    ]
}

/// The spin workload's parameters.
struct SpinSpec: WorkloadSpec {
    static let kind = "spin"
    var threads = 1

    func problems() -> [String] { threads == 1 ? [] : ["spin runs on one thread, got \(threads)"] }
    var labels: [String: String] { ["threads": String(threads)] }
    var stepName: String { "spin" }
    var summary: String { "spin on \(threads) thread" }
}

/// What the SUT counted.
struct SpinResult: WorkloadResult {
    static let resultKind = "spinSUT"
    var iterations: UInt64
    var completions: UInt64? { iterations }
}

/// Sleeps to the start, spins through the warm-up, counts iterations over the window (one interval
/// sample a second) and ends by itself; a stop ends it early.
final class SpinEngine: Engine, @unchecked Sendable {
    let endpoint: Endpoint? = nil
    private let step: StepSpec
    private let events: EngineEventSink
    private let stop = Atomic<Bool>(false)

    init(step: StepSpec, events: @escaping EngineEventSink) {
        self.step = step
        self.events = events
    }

    func start(atNs: Int64) {
        Thread.detachNewThread { [self] in run(atNs: atNs) }
    }

    func requestStop() { stop.store(true, ordering: .relaxed) }

    private func run(atNs: Int64) {
        let started = MonotonicClock.sleepThenSpin(until: atNs)
        events(.started(started))
        let windowStart = started + step.timing.warmupNs
        let windowEnd = windowStart + step.timing.durationNs
        var now = started
        while now < windowStart && !stop.load(ordering: .relaxed) { now = MonotonicClock.now() }
        var iterations: UInt64 = 0
        var second: UInt64 = 0
        var index = 0
        var secondStart = now
        while now < windowEnd && !stop.load(ordering: .relaxed) {
            iterations &+= 1
            second &+= 1
            if second & 0x3ff == 0 { now = MonotonicClock.now() }
            if now - secondStart >= 1_000_000_000 {
                events(.sample(interval(index, at: now, since: secondStart, second)))
                (index, secondStart, second) = (index + 1, now, 0)
            }
        }
        let end = min(MonotonicClock.now(), windowEnd)
        events(
            .finished(
                SideResult(
                    startedNs: started, stoppedNs: MonotonicClock.now(), windowStartNs: windowStart,
                    windowEndNs: end, outcome: SideOutcome(SpinResult(iterations: iterations)))))
    }

    private func interval(_ index: Int, at now: Int64, since start: Int64, _ count: UInt64) -> IntervalSample {
        IntervalSample(
            stepID: step.stepID, index: index, tNs: now, lengthNs: now - start, transactions: count, lost: 0)
    }
}
