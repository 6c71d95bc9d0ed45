import Shared

/// Runs one synchronized step of any workload on the session's agents: the thin I/O loop around
/// ``StepMachine``. It sends what the machine says, waits for the next message from the agents the
/// step involves until the machine's deadline, feeds it back, and logs what crossed the wire.
struct StepRunner {
    let session: LabSession
    let log: RunLog
    /// How far in the future the start instant lies (covers the start messages' flight).
    var startLeadNs: Int64 = 300_000_000
    /// Called with every interval sample of the agents that end the step's window (the peers, or a
    /// SUT that runs alone) and the role of the agent that sent it.
    var onInterval: ((Role, IntervalSample) -> Void)?
    /// Called with every interval sample of every agent in the step: the agent's name and role, and
    /// whether it comes from the side whose rate is the step's (`load`).
    var onAnySample: ((String, Role, IntervalSample, Bool) -> Void)?

    /// Runs the step on `participants` (each agent with its role in this step); each agent's
    /// result and interval samples. `bindHost` and `portMap` place the SUT's server in a guest;
    /// `shares` gives peers (by link index) their part of the load when several split it.
    func run(
        stepID: String, plan: PlannedStep, participants: [(agent: ConnectedAgent, role: Role)], dataHost: String,
        bindHost: String? = nil, portMap: [Int: Int] = [:], clocks: [Int: ClockEstimate],
        shares: [Int: Workload] = [:]
    ) async throws -> [(agent: ConnectedAgent, role: Role, result: SideResult, intervals: [IntervalSample])] {
        let agents = participants
        var intervals: [Int: [IntervalSample]] = [:]
        let mailbox = session.mailbox
        let roles = Dictionary(participants.map { ($0.agent.link.index, $0.role) }) { a, _ in a }
        let onInterval = self.onInterval
        let onAnySample = self.onAnySample
        let names = Dictionary(participants.map { ($0.agent.link.index, $0.agent.name) }) { a, _ in a }
        let live = plan.workload.shape.windowEndedBy
        mailbox.onSample = { index, sample in
            guard sample.stepID == stepID else { return }
            intervals[index, default: []].append(sample)
            guard let role = roles[index] else { return }
            if role == live { onInterval?(role, sample) }
            onAnySample?(names[index] ?? "#\(index)", role, sample, role == live)
        }
        defer { mailbox.onSample = { _, _ in } }
        var machine = StepMachine(
            runID: log.runID, stepID: stepID, plan: plan,
            agents: agents.map {
                StepMachine.Agent(
                    index: $0.agent.link.index, role: $0.role, name: $0.agent.name, clock: clocks[$0.agent.link.index]!,
                    share: shares[$0.agent.link.index])
            },
            dataHost: dataHost, bindHost: bindHost, portMap: portMap, startLeadNs: startLeadNs)
        let involved = Set(agents.map(\.agent.link.index))
        var action = machine.begin(nowNs: MonotonicClock.now())
        while true {
            let deadline: Int64
            switch action {
            case .send(let outgoing, let until):
                for out in outgoing { send(out, stepID: stepID, machine: machine) }
                deadline = until
            case .wait(let until):
                deadline = until
            case .finished(let results):
                log.record("step.done", step: stepID)
                return try agents.map { agent, role in
                    guard let result = results[agent.link.index] else {
                        throw WireError(.unexpectedMessage, "agent \(agent.name) sent no result for step \(stepID)")
                    }
                    guard result.outcome.fits(shares[agent.link.index] ?? plan.workload, role: role) else {
                        throw WireError(
                            .unexpectedMessage,
                            "agent \(agent.name) sent a result of another workload in step \(stepID)")
                    }
                    return (agent, role, result, intervals[agent.link.index] ?? [])
                }
            case .abort(let error):
                throw error
            }
            do {
                guard let (index, message, arrived) = try await mailbox.next(fromAny: involved, deadlineNs: deadline)
                else {
                    action = machine.timedOut(nowNs: MonotonicClock.now())
                    continue
                }
                note(message, from: index, stepID: stepID)
                action = machine.received(message, from: index, nowNs: arrived)
            } catch let error as WireError {
                action = machine.failed(error)
            }
        }
    }

    private func send(_ out: StepMachine.Outgoing, stepID: String, machine: StepMachine) {
        guard let agent = session.agents.first(where: { $0.link.index == out.agent }) else { return }
        switch out.message {
        case .prepare: log.record("step.prepare.sent", step: stepID, ["agent": agent.name])
        case .start(let start):
            log.record(
                "step.start.sent", step: stepID,
                ["agent": agent.name, "start_at_ns": String(machine.startAtNs ?? 0), "agent_at_ns": String(start.atNs)])
        case .stop: log.record("step.stop.sent", step: stepID, ["agent": agent.name])
        default: break
        }
        // Logged first: the record's time is before the message leaves, so no agent's receipt can
        // precede it on the merged timeline however late this thread runs after the write.
        agent.link.send(out.message)
    }

    private func note(_ message: WireMessage, from index: Int, stepID: String) {
        let name = session.agents.first { $0.link.index == index }?.name ?? "#\(index)"
        switch message {
        case .ready(let ready):
            log.record("step.ready", step: stepID, ["agent": name, "endpoint": ready.endpoint?.description ?? "-"])
        case .started(let started):
            log.record("step.started", step: stepID, ["agent": name, "agent_started_ns": String(started.actualNs)])
        case .finished(let finished):
            log.record(
                "step.finished.received", step: stepID,
                ["agent": name, "transactions": finished.result.completions.map(String.init) ?? "-"])
        default: break
        }
    }
}
