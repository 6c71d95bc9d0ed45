/// The coordinator's half of one step, as a value: prepare the server side (`sut`, and `host`
/// agents), point every peer at the endpoint the SUT reported, start all agents at one instant
/// translated into each agent's clock, wait for the results of the agents that end the window by
/// themselves (the peers, or the SUT of a workload whose shape has no peer), then stop the others
/// and collect their results. The workload's ``WorkloadShape`` says which agents take part, who
/// ends the window and whether the SUT reports an endpoint. Any failure, unexpected
/// message or silence past a deadline aborts the step. The I/O layer (`StepRunner`) sends what the
/// actions say, waits for the next message until the action's deadline, and feeds it back.
package struct StepMachine: Sendable {
    /// An agent of the step, with the clock estimate its start instant is translated with.
    package struct Agent: Equatable, Sendable {
        /// The coordinator's index of the agent's link.
        package var index: Int
        package var role: Role
        package var name: String
        package var clock: ClockEstimate
        /// A peer's share of the load when several peers split it (``Workload/split(among:)``);
        /// `nil`: the step's whole workload.
        package var share: Workload?

        package init(index: Int, role: Role, name: String, clock: ClockEstimate, share: Workload? = nil) {
            self.index = index
            self.role = role
            self.name = name
            self.clock = clock
            self.share = share
        }
    }

    /// A message for one agent.
    package struct Outgoing: Equatable, Sendable {
        package var agent: Int
        package var message: WireMessage

        package init(agent: Int, _ message: WireMessage) {
            self.agent = agent
            self.message = message
        }
    }

    /// What the I/O layer must do next.
    package enum Action: Equatable, Sendable {
        /// Send these messages, then wait for the next message until `deadlineNs`.
        case send([Outgoing], deadlineNs: Int64)
        /// Wait for the next message until `deadlineNs`.
        case wait(deadlineNs: Int64)
        /// The step is complete: every agent's result by agent index.
        case finished([Int: SideResult])
        /// Abort the step on every agent and report this error.
        case abort(WireError)
    }

    /// Where the step is.
    package enum Phase: Equatable, Sendable {
        case idle, preparingServers, preparingLoad, starting, running, stopping, done, aborted
    }

    private let runID: String
    private let stepID: String
    private let plan: PlannedStep
    private let agents: [Agent]
    /// The address the peers use to reach the SUT.
    private let dataHost: String
    /// The address the SUT's server binds: the data address, or a guest's own address in its environment.
    private let bindHost: String
    /// Ports published on the host: the SUT's reported port -> the port peers use.
    private let portMap: [Int: Int]
    /// How far in the future the start instant lies (covers the start messages' flight).
    private let startLeadNs: Int64
    private(set) package var phase: Phase = .idle
    private var awaiting: Set<Int> = []
    private var deadlineNs: Int64 = 0
    private var endpoint: Endpoint?
    private var results: [Int: SideResult] = [:]
    /// The start instant on the coordinator's clock, once chosen.
    private(set) package var startAtNs: Int64?

    /// How long peers may take to connect and get ready.
    package static let peerReadyBudgetNs: Int64 = 10_000_000_000
    /// How long the server side may take to answer a stop.
    package static let stopBudgetNs: Int64 = 10_000_000_000
    /// Slack after the window for a peer's result to arrive (drains, merges).
    package static let resultSlackNs: Int64 = 15_000_000_000

    package init(
        runID: String, stepID: String, plan: PlannedStep, agents: [Agent], dataHost: String, bindHost: String? = nil,
        portMap: [Int: Int] = [:], startLeadNs: Int64 = 300_000_000
    ) {
        self.runID = runID
        self.stepID = stepID
        self.plan = plan
        self.agents = agents
        self.dataHost = dataHost
        self.bindHost = bindHost ?? dataHost
        self.portMap = portMap
        self.startLeadNs = startLeadNs
    }

    private var servers: [Agent] { agents.filter { $0.role != .peer } }
    private var peers: [Agent] { agents.filter { $0.role == .peer } }
    private var shape: WorkloadShape { plan.workload.shape }
    /// The agents that end the window by themselves: the peers, or the SUT when it runs alone.
    private var enders: [Agent] { agents.filter { $0.role == shape.windowEndedBy } }

    /// Begins the step: prepare goes to the server side.
    package mutating func begin(nowNs: Int64) -> Action {
        guard phase == .idle else { return abort(WireError(.unexpectedMessage, "step \(stepID) began twice")) }
        guard agents.contains(where: { $0.role == .sut }) else {
            return abort(WireError(.badStep, "step \(stepID) needs a sut agent"))
        }
        if shape.needsPeers && peers.isEmpty {
            return abort(WireError(.badStep, "step \(stepID) (\(plan.workload.name)) needs at least one peer"))
        }
        if !shape.needsPeers && !peers.isEmpty {
            return abort(WireError(.badStep, "step \(stepID) (\(plan.workload.name)) runs on the SUT alone: no peer"))
        }
        let placement = withBind(plan.placement)
        let out = servers.map { agent in
            Outgoing(
                agent: agent.index,
                .prepare(Prepare(step: plan.spec(runID: runID, stepID: stepID, role: agent.role, placement: placement)))
            )
        }
        return enter(.preparingServers, waitingFor: servers, until: nowNs + plan.workload.spec.prepareBudgetNs, out)
    }

    /// A message from agent `index`, arrived at `nowNs`.
    package mutating func received(_ message: WireMessage, from index: Int, nowNs: Int64) -> Action {
        guard let agent = agents.first(where: { $0.index == index }) else {
            return abort(WireError(.unexpectedMessage, "a message from an agent outside step \(stepID)"))
        }
        if case .failure(let failure) = message {
            return abort(WireError(failure.code, "agent \(agent.name): \(failure.message)"))
        }
        switch (phase, message) {
        case (.preparingServers, .ready(let ready)) where ready.stepID == stepID && awaiting.contains(index):
            if agent.role == .sut && shape.sutEndpoint {
                guard let port = ready.endpoint?.port else {
                    return abort(WireError(.unexpectedMessage, "agent \(agent.name) reported no data-plane endpoint"))
                }
                endpoint = Endpoint(host: dataHost, port: portMap[port] ?? port)
            }
            awaiting.remove(index)
            guard awaiting.isEmpty else { return .wait(deadlineNs: deadlineNs) }
            guard !peers.isEmpty else { return startAll(nowNs: nowNs) }
            var placement = withBind(plan.placement)
            placement.target = endpoint
            let sutClock = agents.first { $0.role == .sut }?.clock
            let out = peers.map { peer in
                var part = plan
                if let share = peer.share { part.workload = share }
                var placement = placement
                placement.sutClockOffsetNs = sutClock.map { $0.offsetNs - peer.clock.offsetNs }
                return Outgoing(
                    agent: peer.index,
                    .prepare(Prepare(step: part.spec(runID: runID, stepID: stepID, role: .peer, placement: placement))))
            }
            return enter(.preparingLoad, waitingFor: peers, until: nowNs + Self.peerReadyBudgetNs, out)

        case (.preparingLoad, .ready(let ready)) where ready.stepID == stepID && awaiting.contains(index):
            awaiting.remove(index)
            guard awaiting.isEmpty else { return .wait(deadlineNs: deadlineNs) }
            return startAll(nowNs: nowNs)

        case (.starting, .started(let started)) where started.stepID == stepID && awaiting.contains(index):
            awaiting.remove(index)
            guard awaiting.isEmpty else { return .wait(deadlineNs: deadlineNs) }
            let until = (startAtNs ?? nowNs) + plan.runBudgetNs + Self.resultSlackNs
            let running = enders.filter { results[$0.index] == nil }
            guard !running.isEmpty else { return stopOthers(nowNs: nowNs) }
            return enter(.running, waitingFor: running, until: until, [])

        case (.starting, .finished(let finished))
        where finished.stepID == stepID && agent.role == shape.windowEndedBy && !awaiting.contains(index)
            && results[index] == nil:
            // A short step: this agent's result came before another agent's `started`.
            results[index] = finished.result
            return .wait(deadlineNs: deadlineNs)

        case (.running, .finished(let finished)) where finished.stepID == stepID && results[index] == nil:
            results[index] = finished.result
            awaiting.remove(index)
            guard awaiting.isEmpty else { return .wait(deadlineNs: deadlineNs) }
            return stopOthers(nowNs: nowNs)

        case (.stopping, .finished(let finished)) where finished.stepID == stepID && awaiting.contains(index):
            results[index] = finished.result
            awaiting.remove(index)
            return awaiting.isEmpty ? finish() : .wait(deadlineNs: deadlineNs)

        default:
            return abort(
                WireError(
                    .unexpectedMessage, "agent \(agent.name) sent \(message.kind) during step \(stepID) (\(phase))"))
        }
    }

    /// Everyone is ready: start all agents at one instant, each in its own clock.
    private mutating func startAll(nowNs: Int64) -> Action {
        let startAt = nowNs + startLeadNs
        startAtNs = startAt
        let out = agents.map {
            Outgoing(agent: $0.index, .start(Start(stepID: stepID, atNs: $0.clock.toAgent(startAt))))
        }
        return enter(.starting, waitingFor: agents, until: startAt + 5_000_000_000, out)
    }

    /// Every agent that ends the window has its result: stop the others (those that did not end by
    /// themselves: the server side, or the host agent of a SUT that ran alone).
    private mutating func stopOthers(nowNs: Int64) -> Action {
        let open = agents.filter { $0.role != shape.windowEndedBy && results[$0.index] == nil }
        guard !open.isEmpty else { return finish() }
        let out = open.map { Outgoing(agent: $0.index, .stop(Stop(stepID: stepID))) }
        return enter(.stopping, waitingFor: open, until: nowNs + Self.stopBudgetNs, out)
    }

    /// The deadline of the last action passed with no message.
    package mutating func timedOut(nowNs: Int64) -> Action {
        guard ![.done, .aborted, .idle].contains(phase) else { return .wait(deadlineNs: deadlineNs) }
        let names = agents.filter { awaiting.contains($0.index) }.map(\.name).joined(separator: ", ")
        return abort(WireError(.timeout, "agent \(names): no answer in time during step \(stepID) (\(phase))"))
    }

    /// The I/O layer failed (a lost link, a silent agent): the step aborts.
    package mutating func failed(_ error: WireError) -> Action { abort(error) }

    private func withBind(_ placement: Placement) -> Placement {
        var p = placement
        p.bindHost = bindHost
        return p
    }

    private mutating func enter(_ next: Phase, waitingFor: [Agent], until: Int64, _ out: [Outgoing]) -> Action {
        phase = next
        awaiting = Set(waitingFor.map(\.index))
        deadlineNs = until
        return .send(out, deadlineNs: until)
    }

    private mutating func finish() -> Action {
        phase = .done
        return .finished(results)
    }

    private mutating func abort(_ error: WireError) -> Action {
        phase = .aborted
        return .abort(error)
    }
}
