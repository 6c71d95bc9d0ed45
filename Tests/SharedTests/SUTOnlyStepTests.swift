import Foundation
import Testing

@testable import Shared

/// A workload whose shape has no peer, declared in this test target: the SUT alone ends the window.
enum SoloWorkload: WorkloadType {
    typealias Spec = SoloSpec
    static let shape = WorkloadShape.sutOnly
    static let count = Metric("count", unit: "things", kind: .counter, better: .higher, help: "things done")
    static let catalog = MetricCatalog([count], headline: [count])
    static let resultTypes: [any WorkloadResult.Type] = [SoloResult.self]
    static func resultType(of spec: SoloSpec, role: Role) -> (any WorkloadResult.Type)? {
        role == .sut ? SoloResult.self : nil
    }
}

struct SoloSpec: WorkloadSpec {
    static let kind = "solo"
    func problems() -> [String] { [] }
    var labels: [String: String] { [:] }
    var stepName: String { "solo" }
    var summary: String { "solo" }
}

struct SoloResult: WorkloadResult {
    static let resultKind = "soloSUT"
    var count: UInt64
}

/// The step machine from a SUT-only shape: no peer is prepared, no endpoint is needed, the SUT's own
/// result ends the window and only the host agent is stopped.
@Suite struct SUTOnlyStepTests {
    static let clock = ClockEstimate(offsetNs: 0, errorNs: 10, roundTripNs: 20, atNs: 0, probes: 1)
    static let plan = PlannedStep(Workload(SoloSpec()), timing: StepTiming(warmupNs: 1_000, durationNs: 5_000))

    static func machine(_ roles: [Role]) -> StepMachine {
        WorkloadRegistry.register(SoloWorkload.self)
        let agents = roles.enumerated().map { StepMachine.Agent(index: $0, role: $1, name: "\($1)", clock: clock) }
        return StepMachine(
            runID: "r", stepID: "s", plan: plan, agents: agents, dataHost: "198.18.0.1", startLeadNs: 100)
    }

    static func finished(_ outcome: SideOutcome) -> WireMessage {
        .finished(
            Finished(
                stepID: "s",
                result: SideResult(startedNs: 1, stoppedNs: 9, windowStartNs: 2, windowEndNs: 8, outcome: outcome)))
    }

    @Test func theSUTAloneRunsAndEndsTheWindowThenTheHostIsStopped() {
        var m = Self.machine([.sut, .host])
        guard case .send(let prepares, _) = m.begin(nowNs: 0) else { Issue.record("no prepare"); return }
        #expect(prepares.map(\.agent) == [0, 1])
        // No endpoint from the SUT, and no peer to prepare: the start goes to both at once.
        _ = m.received(.ready(Ready(stepID: "s")), from: 1, nowNs: 1)
        guard case .send(let starts, _) = m.received(.ready(Ready(stepID: "s")), from: 0, nowNs: 2) else {
            Issue.record("no start after the SUT was ready without an endpoint")
            return
        }
        #expect(
            starts.map(\.agent) == [0, 1] && starts.allSatisfy { if case .start = $0.message { true } else { false } })
        _ = m.received(.started(Started(stepID: "s", actualNs: 102)), from: 0, nowNs: 103)
        #expect(
            m.received(.started(Started(stepID: "s", actualNs: 102)), from: 1, nowNs: 104)
                != .abort(WireError(.timeout, "")))
        #expect(m.phase == .running)
        // The SUT's own result ends the window; only the host agent is asked to stop.
        guard
            case .send(let stops, _) = m.received(
                Self.finished(SideOutcome(SoloResult(count: 3))), from: 0, nowNs: 6000)
        else { Issue.record("the host was not stopped"); return }
        #expect(stops.map(\.agent) == [1])
        guard
            case .finished(let results) = m.received(
                Self.finished(SideOutcome(HostMeterResult())), from: 1, nowNs: 6001)
        else { Issue.record("the step did not finish"); return }
        #expect(results[0]?.outcome.fits(Self.plan.workload, role: .sut) == true)
        #expect(results[0]?.outcome.as(SoloResult.self)?.count == 3)
    }

    @Test func aSUTAloneInNativeFinishesWithItsOwnResult() {
        var m = Self.machine([.sut])
        _ = m.begin(nowNs: 0)
        _ = m.received(.ready(Ready(stepID: "s")), from: 0, nowNs: 1)
        _ = m.received(.started(Started(stepID: "s", actualNs: 102)), from: 0, nowNs: 103)
        guard
            case .finished(let results) = m.received(
                Self.finished(SideOutcome(SoloResult(count: 1))), from: 0, nowNs: 6000)
        else { Issue.record("did not finish on the SUT's result"); return }
        #expect(results.count == 1)
    }

    @Test func aPeerInASUTOnlyStepIsRefused() {
        var m = Self.machine([.sut, .peer])
        guard case .abort(let e) = m.begin(nowNs: 0) else { Issue.record("began with a peer"); return }
        #expect(e.code == .badStep && e.message.contains("runs on the SUT alone"))
    }

    @Test func theSpecAndResultTravelByTheirRegisteredNames() throws {
        WorkloadRegistry.register(SoloWorkload.self)
        let step = StepSpec(runID: "r", stepID: "s", role: .sut, workload: Workload(SoloSpec()))
        let encoded = try JSONEncoder().encode(step)
        #expect(String(decoding: encoded, as: UTF8.self).contains("\"workload\":{\"solo\":{}}"))
        #expect(try JSONDecoder().decode(StepSpec.self, from: encoded) == step)
        let outcome = SideOutcome(SoloResult(count: 9))
        let text = try JSONEncoder().encode(outcome)
        #expect(String(decoding: text, as: UTF8.self) == "{\"soloSUT\":{\"count\":9}}")
        #expect(try JSONDecoder().decode(SideOutcome.self, from: text) == outcome)
    }

    @Test func anEngineThatRunsToCompletionIsBoundedByItsTimeLimitNotTheWindow() {
        // hpcc with a 20 s limit and a plan window of 6 us: the running deadline is the limit's.
        let plan = PlannedStep(
            Workload(HpccSpec(n: 1000, timeLimitSeconds: 20)), timing: StepTiming(warmupNs: 1_000, durationNs: 5_000))
        #expect(plan.runBudgetNs == 20_000_000_000 && Self.plan.runBudgetNs == 6_000)
        let agents = [StepMachine.Agent(index: 0, role: .sut, name: "sut", clock: Self.clock)]
        var m = StepMachine(
            runID: "r", stepID: "s", plan: plan, agents: agents, dataHost: "198.18.0.1", startLeadNs: 100)
        _ = m.begin(nowNs: 0)
        _ = m.received(.ready(Ready(stepID: "s")), from: 0, nowNs: 1)
        let running = m.received(.started(Started(stepID: "s", actualNs: 101)), from: 0, nowNs: 102)
        #expect(running == .send([], deadlineNs: 101 + 20_000_000_000 + StepMachine.resultSlackNs), "\(running)")
    }
}
