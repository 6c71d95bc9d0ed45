import Testing

@testable import Shared

@Suite struct AgentRunMachineTests {
    let spec = StepSpec(runID: "r", stepID: "s1", role: .sut, workload: Workload(RRSpec()))
    let result = SideResult(
        startedNs: 1, stoppedNs: 2, windowStartNs: 1, windowEndNs: 2, outcome: SideOutcome(RRServerResult(served: 5)))

    @Test func wholeStep() {
        var machine = AgentRunMachine()
        #expect(machine.received(.prepare(Prepare(step: spec))) == .prepareEngine(spec))
        let endpoint = Endpoint(host: "127.0.0.1", port: 5000)
        #expect(machine.engineReady(endpoint) == .send(.ready(Ready(stepID: "s1", endpoint: endpoint))))
        #expect(machine.received(.start(Start(stepID: "s1", atNs: 100))) == .startEngine(atNs: 100))
        #expect(machine.engineStarted(101) == .send(.started(Started(stepID: "s1", actualNs: 101))))
        #expect(machine.received(.stop(Stop(stepID: "s1"))) == .stopEngine)
        #expect(machine.engineFinished(result) == .send(.finished(Finished(stepID: "s1", result: result))))
        #expect(!machine.hasEngine)
        // The next step may follow on the same session.
        #expect(machine.received(.prepare(Prepare(step: spec))) == .prepareEngine(spec))
    }

    @Test func clientFinishingByItselfThenALateStopIsHarmless() {
        var machine = AgentRunMachine()
        _ = machine.received(.prepare(Prepare(step: spec)))
        _ = machine.engineReady(nil)
        _ = machine.received(.start(Start(stepID: "s1", atNs: 0)))
        #expect(machine.engineFinished(result) == .send(.finished(Finished(stepID: "s1", result: result))))
        #expect(machine.received(.stop(Stop(stepID: "s1"))) == .none)
    }

    @Test func startForAnotherStepFailsAndTearsDown() {
        var machine = AgentRunMachine()
        _ = machine.received(.prepare(Prepare(step: spec)))
        _ = machine.engineReady(nil)
        guard case .failAndAbort(let failure) = machine.received(.start(Start(stepID: "other", atNs: 0))) else {
            Issue.record("start of an unknown step accepted")
            return
        }
        #expect(failure.code == .unexpectedMessage)
        #expect(!machine.hasEngine)
    }

    @Test func abortWhileRunningTearsDown() {
        var machine = AgentRunMachine()
        _ = machine.received(.prepare(Prepare(step: spec)))
        _ = machine.engineReady(nil)
        _ = machine.received(.start(Start(stepID: "s1", atNs: 0)))
        #expect(machine.received(.abort(Abort(reason: "x"))) == .abortEngine)
        #expect(machine.engineFinished(result) == .none)
    }

    @Test func engineFailureIsReportedOnce() {
        var machine = AgentRunMachine()
        _ = machine.received(.prepare(Prepare(step: spec)))
        _ = machine.engineReady(nil)
        _ = machine.received(.start(Start(stepID: "s1", atNs: 0)))
        let error = WireError(.dataPlaneStalled, "stalled")
        #expect(machine.engineFailed(error) == .failAndAbort(WireFailure(error)))
        #expect(machine.engineFailed(error) == .none)
    }

    @Test func startBeforePrepareIsRefused() {
        var machine = AgentRunMachine()
        guard case .send(.failure(let failure)) = machine.received(.start(Start(stepID: "s1", atNs: 0))) else {
            Issue.record("start without prepare accepted")
            return
        }
        #expect(failure.code == .unexpectedMessage)
    }
}
