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

    init(
        sut: Endpoint, peer: Endpoint, sutDataHost: String, token: Token, steps: [PlannedStep], outDirectory: String,
        command: String, heartbeatTimeoutNs: Int64 = 3_000_000_000, resume: Bool = false
    ) {
        agents = [AgentTarget(role: .sut, address: sut), AgentTarget(role: .peer, address: peer)]
        self.sutDataHost = sutDataHost
        self.token = token
        self.steps = steps
        self.outDirectory = outDirectory
        self.command = command
        self.heartbeatTimeoutNs = heartbeatTimeoutNs
        self.resume = resume
    }

    /// Step ids: the workload's step name and the step's place in the plan.
    var stepIDs: [String] { steps.enumerated().map { "\($1.stepName)-\($0 + 1)" } }

    /// The plan as `run.json` records it: each step's id and encoded spec, secrets redacted.
    var recorded: [RunInfo.PlannedEntry] {
        zip(stepIDs, steps).map { RunInfo.PlannedEntry(id: $0, spec: $1.redacted) }
    }
}

/// Drives a whole run: connect, sync clocks, run each step, re-sync after each, write results as
/// each step ends, and on any failure abort every agent and still write what it has.
struct BenchmarkRun {
    let plan: RunPlan
    /// Progress lines for the user (stderr).
    var progress: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

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
                plan: plan.recorded)
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
        log.record(earlier == nil ? "run.begin" : "run.resume", ["out": plan.outDirectory])

        let session = LabSession(token: plan.token, log: log, heartbeatTimeoutNs: plan.heartbeatTimeoutNs)
        var outcomes: [StepOutcome] = []
        var tracks: [Int: ClockTrack] = [:]
        var failure: WireError?
        do {
            try await session.connect(plan.agents.map { ($0.role, $0.address) })
            var current: [Int: ClockEstimate] = [:]
            for agent in session.agents {
                let estimate = try await session.syncClock(agent)
                current[agent.link.index] = estimate
                tracks[agent.link.index] = ClockTrack(before: estimate)
                progress(
                    "connected \(agent.link.role.rawValue) agent '\(agent.name)' at \(agent.link.address) "
                        + "(clock offset \(Self.ms(estimate.offsetNs)) ± \(Self.ms(estimate.errorNs)))")
            }
            info.agents = agentInfo(session, tracks)
            try store.writeRunInfo(info)
            let runner = StepRunner(session: session, log: log)
            for (stepID, step) in zip(plan.stepIDs, plan.steps) {
                if finished.contains(stepID) {
                    progress("step \(stepID): finished before, kept")
                    continue
                }
                progress("step \(stepID): \(StepOutcome.describe(step))")
                info.steps.append(RunInfo.Step(id: stepID, status: "running"))
                try store.writeRunInfo(info)
                let results = try await runner.run(
                    stepID: stepID, plan: step, dataHost: plan.sutDataHost, clocks: current)
                var sides: [AgentSide] = []
                for (agent, result, intervals) in results {
                    let index = agent.link.index
                    let after = try await session.syncClock(agent)
                    sides.append(
                        AgentSide(
                            index: index, role: agent.link.role, name: agent.name, result: result,
                            clock: ClockTrack(before: current[index]!, after: after), intervals: intervals))
                    tracks[index] = ClockTrack(before: tracks[index]!.before, after: after)
                    current[index] = after
                }
                let outcome = StepOutcome(stepID: stepID, plan: step, sides: sides)
                outcomes.append(outcome)
                try store.append(outcome.samples(runID: runID))
                if let hgrm = outcome.hgrm { try store.writeHistogram(step: stepID, text: hgrm) }
                try store.writeSummary()
                let window = outcome.window
                info.steps[info.steps.count - 1] = RunInfo.Step(
                    id: stepID, status: "complete", window_start_ns: window.start, window_end_ns: window.end,
                    start_skew_ns: outcome.startSkewNs, clock_offset_error_ns: outcome.clockErrorNs)
                info.agents = agentInfo(session, tracks)
                try store.writeRunInfo(info)
                log.record("step.written", step: stepID)
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
        if let difference = SpecDifference.first(had, plan.recorded) {
            throw WireError(
                .results,
                "\(plan.outDirectory) holds a different run: \(difference); resume with the parameters it was started with"
            )
        }
        return (store, info)
    }

    private var parameters: [String: String] {
        var p = ["sut_data": plan.sutDataHost]
        for target in plan.agents where p[target.role.rawValue] == nil {
            p[target.role.rawValue] = target.address.description
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
