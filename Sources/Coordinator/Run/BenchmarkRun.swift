import Foundation
import Shared

/// An agent a run connects to.
struct AgentTarget: Sendable {
    var role: Role
    var address: Endpoint
}

/// A run: one or more steps (any workload) between the SUT and its peers.
struct RunPlan: Sendable {
    /// The agents, in the order they are connected (the SUT first).
    var agents: [AgentTarget]
    /// The address the peers use to reach the SUT's server side, which it binds.
    var sutDataHost: String
    var token: Token
    var steps: [PlannedStep]
    var outDirectory: String
    /// The command line, for `run.json`.
    var command: String
    var heartbeatTimeoutNs: Int64 = 3_000_000_000
    /// Continue the run in `outDirectory`: keep and skip its finished steps.
    var resume = false
    /// The container modes' image (`nil`: `lockstep-agent:VERSION`).
    var image: String?
    /// Where a container's MySQL data lives.
    var mysqlStorage: MySQLStorage = .volume
    /// The first port a guest binds (`--guest-ports`).
    var guestPortBase = GuestPorts.defaultBase
    /// How a `kvm` guest is booted.
    var vm = VMSettings()
    /// How long to wait for an agent still busy with another session (one that just ended may be
    /// stopping its servers); 0: refuse at once.
    var busyWaitNs: Int64 = 30_000_000_000
    /// A plan's rule: `steps` are its cells, each repeated by the rule; `nil`: each step runs once.
    var repetition: RepetitionRule?
    /// The plan file's text, copied into the results directory as `plan.yaml`.
    var planText: String?

    init(
        sut: Endpoint, peer: Endpoint, sutDataHost: String, token: Token, steps: [PlannedStep], outDirectory: String,
        command: String, heartbeatTimeoutNs: Int64 = 3_000_000_000, resume: Bool = false
    ) {
        self.init(
            sut: sut, peers: [peer], sutDataHost: sutDataHost, token: token, steps: steps, outDirectory: outDirectory,
            command: command, heartbeatTimeoutNs: heartbeatTimeoutNs, resume: resume)
    }

    /// A run with one or more peers, which split each step's load.
    init(
        sut: Endpoint, peers: [Endpoint], sutDataHost: String, token: Token, steps: [PlannedStep],
        outDirectory: String, command: String, heartbeatTimeoutNs: Int64 = 3_000_000_000, resume: Bool = false
    ) {
        agents = [AgentTarget(role: .sut, address: sut)] + peers.map { AgentTarget(role: .peer, address: $0) }
        self.sutDataHost = sutDataHost
        self.token = token
        self.steps = steps
        self.outDirectory = outDirectory
        self.command = command
        self.heartbeatTimeoutNs = heartbeatTimeoutNs
        self.resume = resume
    }

    /// Step ids: the workload's step name, the mode when the run has any other than native, and the
    /// step's place in the plan (`rr-tcp-1`, `rr-tcp-netns-nat-2`). A plan's are its cells' ids
    /// (`rr-tcp-native`), and its steps' ids add the repetition (`rr-tcp-native-r2`).
    var stepIDs: [String] {
        if repetition != nil { return PlanFile.cells(steps).map(\.id) }
        let modes = steps.contains { $0.placement.mode != .native }
        return steps.enumerated().map { i, s in
            modes ? "\(s.stepName)-\(s.placement.mode.rawValue)-\(i + 1)" : "\(s.stepName)-\(i + 1)"
        }
    }

    /// The plan as `run.json` records it: each step's (or cell's) id and encoded spec, secrets redacted.
    var recorded: [RunInfo.PlannedEntry] {
        zip(stepIDs, steps).map { RunInfo.PlannedEntry(id: $0, spec: $1.redacted) }
    }

    /// The order the steps run in.
    func schedule() -> any StepSchedule {
        guard let repetition else { return FixedSchedule(ids: stepIDs, steps: steps) }
        return PlanSchedule(cells: zip(stepIDs, steps).map { ($0, $1) }, rule: repetition)
    }
}

/// Drives a whole run: connect, sync clocks, run each step, re-sync after each, write results as
/// each step ends, and on any failure abort every agent and still write what it has.
struct BenchmarkRun {
    let plan: RunPlan
    /// Progress lines for the user (stderr).
    var progress: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    /// The live status line (step, rate so far, steps done, elapsed, ETA); `nil`: event lines only.
    var live: RunProgress?

    /// Runs the plan; returns the finished steps, or throws the first failure after writing results.
    func run() async throws -> [StepOutcome] {
        let sinceNs = MonotonicClock.now()
        let (store, earlier) = try openStore()
        let runID = earlier?.run_id ?? Self.makeRunID()
        let log = RunLog(runID: runID)
        var info =
            earlier
            ?? RunInfo(
                run_id: runID, command: plan.command, started_at: Self.wallClock(), status: "running",
                parameters: parameters, coordinator: HostFacts.current(softwareVersion: LockstepVersion.current),
                plan: plan.recorded, repetition: plan.repetition)
        let finished = Set(info.steps.filter { $0.status == "complete" }.map(\.id))
        if earlier != nil {
            // Only finished steps stay; the rest run again.
            info.steps = info.steps.filter { finished.contains($0.id) }
            info.status = "running"
            info.error = nil
            info.finished_at = nil
            info.resumed_at = (info.resumed_at ?? []) + [Self.wallClock()]
        }
        let earlierLog = earlier != nil ? store.mergedLogLines() : []
        try store.writeRunInfo(info)
        if earlier == nil, let text = plan.planText { try store.writePlan(text) }
        log.record(earlier == nil ? "run.begin" : "run.resume", ["out": plan.outDirectory])

        let session = LabSession(token: plan.token, log: log, heartbeatTimeoutNs: plan.heartbeatTimeoutNs)
        var outcomes: [StepOutcome] = []
        var tracks: [Int: ClockTrack] = [:]
        var failure: WireError?
        do {
            try await session.connect(
                plan.agents.map { ($0.role, $0.address) }, busyWaitNs: plan.busyWaitNs,
                onBusy: { progress("\($0); waiting up to \(Self.seconds(plan.busyWaitNs)) for its session to end") })
            var current: [Int: ClockEstimate] = [:]
            for agent in session.agents {
                let estimate = try await session.syncClock(agent)
                current[agent.link.index] = estimate
                tracks[agent.link.index] = ClockTrack(before: estimate)
                progress(
                    "connected \(agent.link.role.rawValue) agent '\(agent.name)' at \(agent.link.address) "
                        + "(clock offset \(Self.ms(estimate.offsetNs)) ± \(Self.ms(estimate.errorNs)))")
            }
            let agentsBefore = info.agents
            info.agents = agentInfo(session, tracks)
            if earlier != nil {
                let changed = Self.provenanceChanges(agentsBefore, info.agents)
                for line in changed { progress("provenance changed since the run began: \(line)") }
                if !changed.isEmpty { info.provenance_changed = (info.provenance_changed ?? []) + changed }
            }
            try store.writeRunInfo(info)
            var runner = StepRunner(session: session, log: log)
            if let live { runner.onInterval = { role, sample in if role == .peer { live.interval(sample) } } }
            let sutAgent = session.agents(.sut)[0]
            let peerAgents = session.agents(.peer)
            try await checkPrerequisites(on: sutAgent, session: session)
            var guests: [DeploymentMode: (agent: ConnectedAgent, placed: Placed)] = [:]
            var schedule = plan.schedule()
            // After the filter above, `info.steps` holds only finished steps.
            let kept = Dictionary(info.steps.map { ($0.id, $0) }) { a, _ in a }
            var done = 0
            var ranBefore = false
            while let scheduled = schedule.next() {
                let stepID = scheduled.id
                if let earlierStep = kept[stepID] {
                    progress("step \(stepID): finished before, kept")
                    schedule.record(scheduled, headline: earlierStep.headline)
                    done += 1
                    continue
                }
                if ranBefore, let cooldown = plan.repetition?.cooldownNs, cooldown > 0 {
                    try await Task.sleep(nanoseconds: UInt64(cooldown))
                }
                ranBefore = true
                let planned = scheduled.planned
                var step = planned
                // Several peers split the load; a peer whose share would be empty sits the step out.
                let split = planned.workload.split(among: peerAgents.count)
                let peers = zip(peerAgents, split).map { (agent: $0.0, role: Role.peer) }
                let shares =
                    peerAgents.count > 1
                    ? Dictionary(zip(peerAgents, split).map { ($0.0.link.index, $0.1) }) { a, _ in a } : [:]
                var participants = [(agent: sutAgent, role: Role.sut)] + peers
                var bindHost: String?
                var portMap: [Int: Int] = [:]
                var dataHost = plan.sutDataHost
                var modeLabels: [String: String] = [:]
                let mode = step.placement.mode
                if mode.hasGuest {
                    if guests[mode] == nil {
                        let (guest, placed) = try await placeGuest(mode, for: step, on: sutAgent, session: session)
                        let estimate = try await session.syncClock(guest)
                        current[guest.link.index] = estimate
                        tracks[guest.link.index] = ClockTrack(before: estimate)
                        guests[mode] = (guest, placed)
                        info.modes = (info.modes ?? [:]).merging([mode.rawValue: placed.setup ?? ModeSetup()]) { $1 }
                        progress(
                            "placed \(mode.rawValue) guest agent '\(guest.name)' at \(guest.link.address) "
                                + "(clock offset \(Self.ms(estimate.offsetNs)) ± \(Self.ms(estimate.errorNs)))")
                        for warning in placed.setup?.warnings ?? [] { progress("warning: \(warning)") }
                    }
                    let (guest, placed) = guests[mode]!
                    step.placement.dataPort = placed.guestPorts?.port(for: step.workload)
                    bindHost = placed.guestBindHost
                    portMap = Dictionary(placed.published.map { ($0.guestPort, $0.hostPort) }) { a, _ in a }
                    participants = [(guest, .sut), (sutAgent, .host)] + peers
                    dataHost = placed.guestHost ?? dataHost
                    if placed.pinnedByHost { step.placement.sutCPUs = nil }
                    if let accel = placed.setup?.accel { modeLabels["accel"] = accel }
                }
                let left = schedule.remaining
                let total = "\(done + left.expected)" + (left.atMost > left.expected ? "-\(done + left.atMost)" : "")
                progress("step \(stepID) (\(done + 1) of \(total)): \(StepOutcome.describe(step))")
                live?.began(
                    step: stepID, done: done, total: total, lengthNs: Self.estimatedNs(step),
                    remainingNs: Int64(left.expected - 1) * Self.estimatedNs(step))
                info.steps.append(
                    RunInfo.Step(id: stepID, status: "running", cell: scheduled.cell, repetition: scheduled.repetition))
                try store.writeRunInfo(info)
                let results = try await runner.run(
                    stepID: stepID, plan: step, participants: participants, dataHost: dataHost,
                    bindHost: bindHost, portMap: portMap, clocks: current, shares: shares)
                var sides: [AgentSide] = []
                for (agent, role, result, intervals) in results {
                    let index = agent.link.index
                    let after = try await session.syncClock(agent)
                    sides.append(
                        AgentSide(
                            index: index, role: role, name: agent.name, result: result,
                            clock: ClockTrack(before: current[index]!, after: after), intervals: intervals,
                            realtimeStart: agent.host.realtimeStarts, share: shares[index]))
                    tracks[index] = tracks[index]!.extended(to: after)
                    current[index] = after
                }
                let outcome = StepOutcome(
                    stepID: stepID, plan: planned, sides: sides, cell: scheduled.cell, repetition: scheduled.repetition,
                    modeLabels: modeLabels)
                outcomes.append(outcome)
                let samples = outcome.samples(runID: runID)
                try store.append(samples)
                if let hgrm = outcome.hgrm { try store.writeHistogram(step: stepID, text: hgrm) }
                let headline = outcome.headline(in: samples)
                schedule.record(scheduled, headline: headline)
                let window = outcome.window
                info.steps[info.steps.count - 1] = RunInfo.Step(
                    id: stepID, status: "complete", window_start_ns: window.start, window_end_ns: window.end,
                    start_skew_ns: outcome.startSkewNs, clock_offset_error_ns: outcome.clockErrorNs,
                    cell: scheduled.cell, repetition: scheduled.repetition, headline: headline)
                info.agents = agentInfo(session, tracks)
                if let rule = plan.repetition {
                    let rows = try store.writeAggregates(rule: rule, cells: PlanFile.cells(plan.steps))
                    for row in rows where row.headline {
                        for host in row.provenance_changed ?? [] {
                            let line = "cell \(row.cell): host \(host) changed between repetitions"
                            if !(info.provenance_changed ?? []).contains(line) {
                                info.provenance_changed = (info.provenance_changed ?? []) + [line]
                                progress("provenance: \(line)")
                            }
                        }
                    }
                } else {
                    try store.writeSummary()
                }
                try store.writeRunInfo(info)
                log.record("step.written", step: stepID)
                done += 1
                progress("step \(stepID): done, \(StepOutcome.headlineText(outcome, headline))")
            }
            info.status = "complete"
        } catch {
            var wire = error as? WireError ?? WireError(.aborted, "\(error)")
            // A peer that lost its connections is usually the effect; the SUT may know the cause.
            let sutIndex = session.agents.first { $0.link.role == .sut }?.link.index
            let peerIndices = Set(session.agents.filter { $0.link.role == .peer }.map(\.link.index))
            if let sutIndex, let origin = session.mailbox.lastFailureOrigin, peerIndices.contains(origin),
                [.dataPlane, .dataPlaneStalled, .serverProtocol, .serverFailed].contains(wire.code),
                let cause = await session.mailbox.failure(from: sutIndex, within: 1_000_000_000)
            {
                wire = WireError(cause.code, "\(cause.message) (\(wire.message))")
            }
            failure = wire
            let stepText = info.steps.last.map { $0.status == "running" ? " in step \($0.id)" : "" } ?? ""
            info.status = "failed"
            info.error = wire.message + stepText
            if let last = info.steps.indices.last, info.steps[last].status == "running" {
                info.steps[last].status = "failed"
                info.steps[last].error = wire.message
            }
            session.abortAll(reason: wire.message)
            log.record("run.failed", level: "error", ["error": wire.description])
        }

        live?.finish()
        log.record("run.end", ["status": info.status])
        var agentLogs: [(records: [LogRecord], clock: ClockTrack)] = []
        for agent in session.agents where session.mailbox.isAlive(agent.link.index) {
            guard let track = tracks[agent.link.index] else { continue }
            do {
                agentLogs.append((try await session.fetchLog(agent), track))
            } catch {
                log.record("log.fetch.failed", level: "warning", ["agent": agent.name, "error": "\(error)"])
            }
        }
        await releaseGuests(session, log: log)
        await session.close()
        info.finished_at = Self.wallClock()
        info.agents = agentInfo(session, tracks)
        try store.writeMergedLog(
            MergedLog.merge(coordinator: log.all, agents: agentLogs, sinceNs: sinceNs - 1_000_000_000),
            after: earlierLog)
        try store.writeRunInfo(info)
        if let failure {
            throw WireError(failure.code, info.error ?? failure.message)
        }
        return outcomes
    }

    /// The dry run's check: connects to the agents and asks the SUT's host whether every mode of the
    /// plan can run there; one line per missing piece. Starts nothing.
    func prerequisites() async throws -> [String] {
        let session = LabSession(
            token: plan.token, log: RunLog(runID: "dry-run"), heartbeatTimeoutNs: plan.heartbeatTimeoutNs)
        do {
            try await session.connect(plan.agents.map { ($0.role, $0.address) })
            let problems = try await modeProblems(on: session.agents(.sut)[0], session: session)
            await session.close()
            return problems
        } catch {
            await session.close()
            throw error
        }
    }

    /// Has the SUT's agent remove the guests it placed before the session ends, so the host is as it
    /// was when the command returns; best effort (the host agent removes them anyway when its session ends).
    private func releaseGuests(_ session: LabSession, log: RunLog) async {
        guard let host = session.agents(.sut).first, session.agents(.sut).count > 1,
            session.mailbox.isAlive(host.link.index)
        else { return }
        for guest in session.agents(.sut).dropFirst() where session.mailbox.isAlive(guest.link.index) {
            guest.link.send(.bye(Bye()))
        }
        host.link.send(.release(Release()))
        do {
            let (message, _) = try await session.mailbox.next(
                from: host.link.index, deadlineNs: MonotonicClock.now() + 60_000_000_000, onlyThis: true)
            if case .released(let released) = message {
                log.record("guests.released", ["removed": released.removed.joined(separator: "; ")])
            }
        } catch {
            log.record("guests.release.failed", level: "warning", ["error": "\(error)"])
        }
    }

    /// Asks the SUT's agent whether every mode of the plan can run there; one line per missing piece.
    private func checkPrerequisites(on host: ConnectedAgent, session: LabSession) async throws {
        let problems = try await modeProblems(on: host, session: session)
        let modes = plannedModes
        guard problems.isEmpty else {
            for problem in problems { progress("missing on \(host.name): \(problem)") }
            throw WireError(
                .modePrerequisites,
                "\(host.name) cannot run \(modes.map(\.rawValue).joined(separator: ", ")): "
                    + problems.joined(separator: "; "))
        }
    }

    /// The plan's modes with a guest, in first-use order.
    private var plannedModes: [DeploymentMode] {
        var modes: [DeploymentMode] = []
        for step in plan.steps where step.placement.mode.hasGuest && !modes.contains(step.placement.mode) {
            modes.append(step.placement.mode)
        }
        return modes
    }

    /// What the SUT's host lacks for the plan's modes, one line each, prefixed by the mode.
    private func modeProblems(on host: ConnectedAgent, session: LabSession) async throws -> [String] {
        var problems: [String] = []
        for mode in plannedModes {
            host.link.send(
                .place(
                    Place(
                        mode: mode, checkOnly: true, image: plan.image, mysqlStorage: plan.mysqlStorage,
                        portBase: plan.guestPortBase, vm: plan.vm)))
            problems += try await placed(by: host, session: session, within: 30_000_000_000).problems
        }
        return problems
    }

    /// Has the SUT's agent place a guest agent for `mode`, connects it in the `sut` role and returns it.
    private func placeGuest(
        _ mode: DeploymentMode, for step: PlannedStep, on host: ConnectedAgent, session: LabSession
    ) async throws -> (ConnectedAgent, Placed) {
        host.link.send(
            .place(
                Place(
                    mode: mode, cpus: step.placement.sutCPUs, image: plan.image, mysqlStorage: plan.mysqlStorage,
                    portBase: plan.guestPortBase, vm: plan.vm)))
        // The longest placement: a kvm guest that fails under KVM (20 s), boots under TCG (up to
        // 180 s) and whose agent then starts listening (up to 60 s).
        let placed = try await placed(by: host, session: session, within: 300_000_000_000)
        guard let ports = placed.guestPorts else {
            throw WireError(.unexpectedMessage, "agent \(host.name) placed a \(mode.rawValue) guest without ports")
        }
        let address = Endpoint(
            host: placed.guestHost ?? host.link.address.host, port: placed.hostPort(for: ports.control))
        try await session.connect([(.sut, address)])
        return (session.agents[session.agents.count - 1], placed)
    }

    /// The next message from `host`, which must be ``Placed``.
    private func placed(by host: ConnectedAgent, session: LabSession, within ns: Int64) async throws -> Placed {
        let (message, _) = try await session.mailbox.next(from: host.link.index, deadlineNs: MonotonicClock.now() + ns)
        guard case .placed(let placed) = message else {
            throw WireError(.unexpectedMessage, "agent \(host.name) answered a placement with \(message.kind)")
        }
        return placed
    }

    /// A new results directory, or for `resume` the existing one and its `run.json`, after
    /// checking that it ran the same steps.
    private func openStore() throws -> (ResultStore, RunInfo?) {
        guard plan.resume else { return (try ResultStore(directory: plan.outDirectory), nil) }
        let store = try ResultStore(resuming: plan.outDirectory)
        guard let info = store.info else { throw WireError(.results, "\(plan.outDirectory): no run.json") }
        guard let had = info.plan else {
            throw WireError(
                .results,
                "\(plan.outDirectory): run.json records no step specs (an older lockstep wrote it); start a new run")
        }
        if let before = info.repetition, let now = plan.repetition, before != now {
            throw WireError(
                .results,
                "\(plan.outDirectory) holds a different run: \(SpecDifference.rule(before, now)); resume with the plan it was started with"
            )
        }
        if let difference = SpecDifference.first(had, plan.recorded) {
            throw WireError(
                .results,
                "\(plan.outDirectory) holds a different run: \(difference); resume with the parameters it was started with"
            )
        }
        return (store, info)
    }

    /// The agents' addresses by role (several peers comma-separated) and the SUT's data address.
    private var parameters: [String: String] {
        var p = ["sut_data": plan.sutDataHost]
        for target in plan.agents {
            let key = target.role.rawValue
            p[key] = p[key].map { $0 + "," + target.address.description } ?? target.address.description
        }
        return p
    }

    private func agentInfo(_ session: LabSession, _ tracks: [Int: ClockTrack]) -> [RunInfo.Agent] {
        session.agents.map { agent in
            RunInfo.Agent(
                role: agent.link.role.rawValue, name: agent.name, address: agent.link.address.description,
                version: agent.version, host: agent.host, clock: tracks[agent.link.index].map(RunInfo.Clock.init))
        }
    }

    /// One line per agent (by role and name) whose host facts differ from those recorded before,
    /// naming the first differing field.
    static func provenanceChanges(_ before: [RunInfo.Agent], _ now: [RunInfo.Agent]) -> [String] {
        var out: [String] = []
        for agent in now {
            guard let was = before.first(where: { $0.role == agent.role && $0.name == agent.name }) else { continue }
            if let d = SpecDifference.difference(
                SpecDifference.json(was.host), SpecDifference.json(agent.host), path: "")
            {
                out.append("\(agent.role) \(agent.name): \(d)")
            }
        }
        return out
    }

    /// A step's expected length: warm-up, window and about 1.5 s of prepare, start and collection.
    static func estimatedNs(_ step: PlannedStep) -> Int64 {
        step.timing.warmupNs + step.timing.durationNs + 1_500_000_000
    }

    static func makeRunID() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date()) + "-" + randomBytes(3).map { String(format: "%02x", $0) }.joined()
    }

    static func wallClock() -> String { ISO8601DateFormatter().string(from: Date()) }
    static func ms(_ ns: Int64) -> String { String(format: "%.3f ms", Double(ns) / 1e6) }
    static func seconds(_ ns: Int64) -> String { String(format: "%gs", Double(ns) / 1e9) }
}
