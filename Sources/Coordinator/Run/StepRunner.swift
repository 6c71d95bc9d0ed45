import Shared

/// Runs one synchronized step of any workload on a connected SUT and peer: prepare the SUT's server
/// side, point the peer at it, start both at one instant translated into each agent's clock, wait
/// for the peer's result (it ends by itself at the end of the window), then stop the SUT.
struct StepRunner {
    let session: LabSession
    let log: RunLog
    /// How far in the future the start instant lies (covers the start messages' flight).
    var startLeadNs: Int64 = 300_000_000

    func run(
        stepID: String, workload: Workload, sutDataHost: String, sutClock: ClockEstimate,
        peerClock: ClockEstimate
    ) async throws -> (sut: SideResult, peer: SideResult, intervals: [Role: [IntervalSample]]) {
        let sut = session.agent(.sut)
        let peer = session.agent(.peer)
        let mailbox = session.mailbox
        var intervals: [Role: [IntervalSample]] = [:]
        mailbox.onSample = { index, sample in
            guard sample.stepID == stepID else { return }
            intervals[index == peer.link.index ? .peer : .sut, default: []].append(sample)
        }
        defer { mailbox.onSample = { _, _ in } }

        log.record("step.prepare.sent", step: stepID, ["agent": sut.name])
        sut.link.send(
            .prepare(
                Prepare(
                    step: StepSpec(
                        runID: log.runID, stepID: stepID, role: .sut, workload: workload.binding(sutDataHost)))))
        let ready = try await expect(sut, stepID, within: workload.spec.prepareBudgetNs) { m -> Ready? in
            if case .ready(let r) = m { return r } else { return nil }
        }
        guard let port = ready.endpoint?.port else {
            throw WireError(.unexpectedMessage, "agent \(sut.name) reported no data-plane endpoint")
        }
        log.record("step.ready", step: stepID, ["agent": sut.name, "endpoint": "\(sutDataHost):\(port)"])

        peer.link.send(
            .prepare(
                Prepare(
                    step: StepSpec(
                        runID: log.runID, stepID: stepID, role: .peer,
                        workload: workload.targeting(Endpoint(host: sutDataHost, port: port))))))
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

        let runNs = workload.timing.warmupNs + workload.timing.durationNs
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
