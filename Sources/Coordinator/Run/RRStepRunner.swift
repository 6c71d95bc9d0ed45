import Shared

/// Runs one synchronized RR step on a connected SUT and peer: prepare both, start both at one
/// instant translated into each agent's clock, wait for the peer's result, stop the SUT.
struct RRStepRunner {
    let session: LabSession
    let log: RunLog
    /// How far in the future the start instant lies (covers the start messages' flight).
    var startLeadNs: Int64 = 300_000_000

    func run(
        stepID: String, spec: RRSpec, sutDataHost: String, sutClock: ClockEstimate,
        peerClock: ClockEstimate
    ) async throws -> (sut: SideResult, peer: SideResult, intervals: [IntervalSample]) {
        let sut = session.agent(.sut)
        let peer = session.agent(.peer)
        let mailbox = session.mailbox
        var intervals: [IntervalSample] = []
        mailbox.onSample = { index, sample in
            if index == peer.link.index && sample.stepID == stepID { intervals.append(sample) }
        }
        defer { mailbox.onSample = { _, _ in } }

        var sutSpec = spec
        sutSpec.bindHost = sutDataHost
        log.record("step.prepare.sent", step: stepID, ["agent": sut.name])
        sut.link.send(
            .prepare(Prepare(step: StepSpec(runID: log.runID, stepID: stepID, role: .sut, workload: .rr(sutSpec)))))
        let ready = try await expect(sut, stepID, within: 10_000_000_000) { m -> Ready? in
            if case .ready(let r) = m { return r } else { return nil }
        }
        guard let port = ready.endpoint?.port else {
            throw WireError(.unexpectedMessage, "agent \(sut.name) reported no responder endpoint")
        }
        log.record("step.ready", step: stepID, ["agent": sut.name, "endpoint": "\(sutDataHost):\(port)"])

        var peerSpec = spec
        peerSpec.target = Endpoint(host: sutDataHost, port: port)
        peer.link.send(
            .prepare(Prepare(step: StepSpec(runID: log.runID, stepID: stepID, role: .peer, workload: .rr(peerSpec)))))
        _ = try await expect(peer, stepID, within: 10_000_000_000) { m -> Ready? in
            if case .ready(let r) = m { return r } else { return nil }
        }
        log.record("step.ready", step: stepID, ["agent": peer.name])

        let startAt = MonotonicClock.now() + startLeadNs
        sut.link.send(.start(Start(stepID: stepID, atNs: sutClock.toAgent(startAt))))
        peer.link.send(.start(Start(stepID: stepID, atNs: peerClock.toAgent(startAt))))
        log.record("step.start.sent", step: stepID, ["start_at_ns": String(startAt)])
        for agent in [sut, peer] {
            _ = try await expect(agent, stepID, within: startLeadNs + 5_000_000_000) { m -> Started? in
                if case .started(let s) = m { return s } else { return nil }
            }
        }

        let runNs = spec.warmupNs + spec.durationNs
        let peerFinished = try await expect(peer, stepID, within: startLeadNs + runNs + 15_000_000_000) {
            m -> Finished? in
            if case .finished(let f) = m { return f } else { return nil }
        }
        log.record("step.peer.finished", step: stepID, ["transactions": String(peerFinished.result.transactions)])
        sut.link.send(.stop(Stop(stepID: stepID)))
        log.record("step.stop.sent", step: stepID, ["agent": sut.name])
        let sutFinished = try await expect(sut, stepID, within: 10_000_000_000) { m -> Finished? in
            if case .finished(let f) = m { return f } else { return nil }
        }
        log.record("step.done", step: stepID)
        return (sutFinished.result, peerFinished.result, intervals)
    }

    /// Waits for the message `match` accepts; anything else from that agent is a protocol error.
    private func expect<T>(
        _ agent: ConnectedAgent, _ stepID: String, within ns: Int64,
        _ match: (WireMessage) -> T?
    ) async throws -> T {
        let (message, _) = try await session.mailbox.next(from: agent.link.index, deadlineNs: MonotonicClock.now() + ns)
        guard let value = match(message) else {
            throw WireError(.unexpectedMessage, "agent \(agent.name) sent \(message.kind) during step \(stepID)")
        }
        return value
    }
}
