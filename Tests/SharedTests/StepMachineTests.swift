import Testing

@testable import Shared

/// The coordinator's half of a step: one event at a time, and driven against the agents' own
/// `AgentRunMachine`s by passing messages, without sockets, through a whole step and each abort path.
@Suite struct StepMachineTests {
    static let clock = ClockEstimate(offsetNs: 0, errorNs: 10, roundTripNs: 20, atNs: 0, probes: 1)
    static let plan = PlannedStep(
        Workload(RRSpec()), timing: StepTiming(warmupNs: 1_000, durationNs: 5_000),
        placement: Placement(sutCPUs: [1], peerCPUs: [0]))
    static let agents = [
        StepMachine.Agent(index: 0, role: .sut, name: "sut", clock: clock),
        StepMachine.Agent(index: 1, role: .peer, name: "peer", clock: shifted(1_000_000)),
    ]

    static func shifted(_ offsetNs: Int64) -> ClockEstimate {
        ClockEstimate(offsetNs: offsetNs, errorNs: 10, roundTripNs: 20, atNs: 0, probes: 1)
    }

    static func machine(_ agents: [StepMachine.Agent] = agents) -> StepMachine {
        StepMachine(runID: "r", stepID: "s", plan: plan, agents: agents, dataHost: "198.18.0.1", startLeadNs: 100)
    }

    static func result(_ outcome: SideOutcome) -> SideResult {
        SideResult(startedNs: 1, stoppedNs: 9, windowStartNs: 2, windowEndNs: 8, outcome: outcome)
    }

    @Test func beginPreparesTheServerSideBoundToTheDataAddress() {
        var m = Self.machine()
        var placement = Self.plan.placement
        placement.bindHost = "198.18.0.1"
        let prepare = WireMessage.prepare(
            Prepare(step: Self.plan.spec(runID: "r", stepID: "s", role: .sut, placement: placement)))
        #expect(m.begin(nowNs: 0) == .send([.init(agent: 0, prepare)], deadlineNs: 10_000_000_000))
        #expect(m.phase == .preparingServers)
    }

    @Test func theSutsEndpointBecomesThePeersTarget() {
        var m = Self.machine()
        _ = m.begin(nowNs: 0)
        let action = m.received(
            .ready(Ready(stepID: "s", endpoint: Endpoint(host: "0.0.0.0", port: 7000))), from: 0, nowNs: 5)
        guard case .send(let out, let deadline) = action, case .prepare(let p) = out.first?.message else {
            Issue.record("no prepare for the peer: \(action)")
            return
        }
        #expect(out.map(\.agent) == [1] && deadline == 5 + StepMachine.peerReadyBudgetNs)
        #expect(p.step.role == .peer && p.step.placement.target == Endpoint(host: "198.18.0.1", port: 7000))
        #expect(p.step.placement.peerCPUs == [0] && p.step.timing == Self.plan.timing)
    }

    @Test func aReadyWithoutEndpointAborts() {
        var m = Self.machine()
        _ = m.begin(nowNs: 0)
        guard case .abort(let e) = m.received(.ready(Ready(stepID: "s")), from: 0, nowNs: 1) else {
            Issue.record("accepted a SUT without endpoint")
            return
        }
        #expect(e.message.contains("no data-plane endpoint") && m.phase == .aborted)
    }

    @Test func startInstantsAreTranslatedIntoEachAgentsClock() {
        var m = Self.machine()
        _ = m.begin(nowNs: 0)
        _ = m.received(.ready(Ready(stepID: "s", endpoint: Endpoint(host: "h", port: 1))), from: 0, nowNs: 1)
        let action = m.received(.ready(Ready(stepID: "s")), from: 1, nowNs: 50)
        #expect(
            action
                == .send(
                    [
                        .init(agent: 0, .start(Start(stepID: "s", atNs: 150))),
                        .init(agent: 1, .start(Start(stepID: "s", atNs: 1_000_150))),
                    ],
                    deadlineNs: 150 + 5_000_000_000))
        #expect(m.startAtNs == 150)
    }

    @Test func silenceNamesWhoWasAwaited() {
        var m = Self.machine()
        _ = m.begin(nowNs: 0)
        guard case .abort(let e) = m.timedOut(nowNs: 20_000_000_000) else {
            Issue.record("no abort on timeout")
            return
        }
        #expect(e.code == .timeout && e.message.contains("agent sut") && e.message.contains("preparingServers"))
    }

    @Test func anAgentsFailureAndAnUnexpectedMessageAbort() {
        var m = Self.machine()
        _ = m.begin(nowNs: 0)
        #expect(
            m.received(.failure(WireFailure(code: .serverFailed, message: "gone")), from: 0, nowNs: 1)
                == .abort(WireError(.serverFailed, "agent sut: gone")))
        var n = Self.machine()
        _ = n.begin(nowNs: 0)
        guard case .abort(let e) = n.received(.started(Started(stepID: "s", actualNs: 0)), from: 1, nowNs: 1) else {
            Issue.record("a started before any start was accepted")
            return
        }
        #expect(e.code == .unexpectedMessage && e.message.contains("agent peer sent started"))
    }

    @Test func aStepNeedsASutAndAPeer() {
        var m = Self.machine([Self.agents[0]])
        guard case .abort(let e) = m.begin(nowNs: 0) else {
            Issue.record("began without a peer")
            return
        }
        #expect(e.code == .badStep)
    }

    // MARK: - Against the agents' machines

    /// An agent as the coordinator sees it: its `AgentRunMachine` and an engine that does what it is told.
    struct SimulatedAgent {
        var machine = AgentRunMachine()
        let role: Role
        /// Fail at prepare, or when started.
        var failPrepare = false
        var failWhenStarted = false
        /// Never answers a start.
        var deafToStart = false
        private(set) var prepared: StepSpec?

        init(role: Role) { self.role = role }

        /// Delivers one message; what the agent sends back.
        mutating func deliver(_ message: WireMessage) -> [WireMessage] {
            perform(machine.received(message))
        }

        private mutating func perform(_ action: AgentRunMachine.Action) -> [WireMessage] {
            switch action {
            case .prepareEngine(let spec):
                prepared = spec
                if failPrepare { return perform(machine.prepareFailed(WireError(.serverFailed, "no redis-server"))) }
                return perform(machine.engineReady(role == .sut ? Endpoint(host: "0.0.0.0", port: 7000) : nil))
            case .startEngine(let atNs):
                if deafToStart { return [] }
                if failWhenStarted { return perform(machine.engineFailed(WireError(.dataPlaneStalled, "stalled"))) }
                var out = perform(machine.engineStarted(atNs + 1))
                if role == .peer { out += perform(machine.engineFinished(result)) }
                return out
            case .stopEngine: return perform(machine.engineFinished(result))
            case .send(let m): return [m]
            case .failAndAbort(let f): return [.failure(f)]
            case .abortEngine, .none: return []
            }
        }

        var result: SideResult {
            switch role {
            case .sut: StepMachineTests.result(SideOutcome(RRServerResult(served: 10)))
            case .peer:
                StepMachineTests.result(
                    SideOutcome(
                        RRClientResult(
                            transactions: 7, lost: 0,
                            latency: HistogramSnapshot(HistogramSnapshot.makeLatencyHistogram()),
                            load: LoadThreads(threads: 1, cpuSeconds: 0.1))))
            case .host: StepMachineTests.result(SideOutcome(HostMeterResult()))
            }
        }
    }

    /// Runs a whole step between the coordinator's machine and the agents'; how it ended, and the
    /// agents as they were then.
    static func simulate(_ agents: inout [SimulatedAgent]) -> StepMachine.Action {
        let described = agents.enumerated().map { i, a in
            StepMachine.Agent(index: i, role: a.role, name: "\(a.role)\(i)", clock: shifted(Int64(i) * 1000))
        }
        var coordinator = machine(described)
        var now: Int64 = 0
        var inbox: [(Int, WireMessage)] = []
        var action = coordinator.begin(nowNs: now)
        while true {
            switch action {
            case .finished, .abort:
                // The I/O layer tells every agent to abort; they must end up with no engine.
                if case .abort = action {
                    for i in agents.indices { _ = agents[i].deliver(.abort(Abort(reason: "test"))) }
                }
                return action
            case .send(let out, _):
                for o in out { inbox += agents[o.agent].deliver(o.message).map { (o.agent, $0) } }
            case .wait: break
            }
            now += 10
            if inbox.isEmpty {
                action = coordinator.timedOut(nowNs: now)
            } else {
                let (from, message) = inbox.removeFirst()
                action = coordinator.received(message, from: from, nowNs: now)
            }
        }
    }

    @Test func aWholeStepWithTwoPeersAndAHostEndsWithEveryResult() {
        var agents = [SimulatedAgent(role: .sut), SimulatedAgent(role: .peer), SimulatedAgent(role: .peer)]
        agents.append(SimulatedAgent(role: .host))
        guard case .finished(let results) = Self.simulate(&agents) else {
            Issue.record("the step did not finish")
            return
        }
        #expect(results.count == 4)
        #expect(results[1]?.outcome.fits(Self.plan.workload, role: .peer) == true)
        #expect(results[0]?.outcome.fits(Self.plan.workload, role: .sut) == true)
        #expect(results[3]?.outcome == SideOutcome(HostMeterResult()))
        #expect(agents.allSatisfy { !$0.machine.hasEngine })
        #expect(agents[1].prepared?.placement.target == Endpoint(host: "198.18.0.1", port: 7000))
        #expect(agents[0].prepared?.placement.bindHost == "198.18.0.1")
        #expect(agents[3].prepared?.role == .host)
    }

    @Test func aSutThatCannotPrepareAbortsBeforeAnyPeerIsAsked() {
        var agents = [SimulatedAgent(role: .sut), SimulatedAgent(role: .peer)]
        agents[0].failPrepare = true
        #expect(Self.simulate(&agents) == .abort(WireError(.serverFailed, "agent sut0: no redis-server")))
        #expect(agents[1].prepared == nil)
    }

    @Test func aPeerFailingMidStepAbortsEveryAgent() {
        var agents = [SimulatedAgent(role: .sut), SimulatedAgent(role: .peer)]
        agents[1].failWhenStarted = true
        guard case .abort(let e) = Self.simulate(&agents) else {
            Issue.record("no abort")
            return
        }
        #expect(e.code == .dataPlaneStalled && e.message.contains("peer1"))
        #expect(agents.allSatisfy { !$0.machine.hasEngine })
    }

    @Test func aPeerThatNeverStartsTimesOutNamingIt() {
        var agents = [SimulatedAgent(role: .sut), SimulatedAgent(role: .peer)]
        agents[1].deafToStart = true
        guard case .abort(let e) = Self.simulate(&agents) else {
            Issue.record("no abort")
            return
        }
        #expect(e.code == .timeout && e.message.contains("agent peer1") && e.message.contains("starting"))
        #expect(agents.allSatisfy { !$0.machine.hasEngine })
    }
}

@Suite struct NATPacketsTests {
    @Test func countersAreSummedPerHookFromAnNftListing() {
        let listing = """
            table ip lockstep_ab12cd {
            \tchain pre {
            \t\ttype nat hook prerouting priority dstnat; policy accept;
            \t\tfib daddr type local tcp dport 40001 counter packets 3 bytes 180 dnat to 198.18.101.2:7470
            \t\tfib daddr type local udp dport 40002 counter packets 40 bytes 4000 dnat to 198.18.101.2:7471
            \t}
            \tchain out {
            \t\ttype nat hook output priority -100; policy accept;
            \t\tfib daddr type local tcp dport 40001 counter packets 7 bytes 420 dnat to 198.18.101.2:7470
            \t}
            }
            """
        let packets = NATPackets(nftListing: listing)
        #expect(packets == NATPackets(prerouting: 43, output: 7))
        #expect(packets.since(NATPackets(prerouting: 40, output: 7)) == NATPackets(prerouting: 3, output: 0))
    }
}
