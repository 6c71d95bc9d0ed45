import Foundation
import Shared

/// A run: one or more steps (any workload) between a SUT and a peer agent.
struct RunPlan: Sendable {
    var sut: Endpoint
    var peer: Endpoint
    /// The address the peer uses to reach the SUT's responder.
    var sutDataHost: String
    var token: Token
    var steps: [Workload]
    var outDirectory: String
    /// The command line, for `run.json`.
    var command: String
    var heartbeatTimeoutNs: Int64 = 3_000_000_000
    /// Continue the run in `outDirectory`: keep and skip its finished steps.
    var resume = false
}

/// Drives a whole run: connect, sync clocks, run each step, re-sync after each, write results as
/// each step ends, and on any failure abort both sides and still write what it has.
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
                parameters: parameters, coordinator: HostFacts.current(softwareVersion: LockstepVersion.current))
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
        var tracks: [Role: ClockTrack] = [:]
        var failure: WireError?
        do {
            try await session.connect([(.sut, plan.sut), (.peer, plan.peer)])
            var current: [Role: ClockEstimate] = [:]
            for agent in session.agents {
                let estimate = try await session.syncClock(agent)
                current[agent.link.role] = estimate
                tracks[agent.link.role] = ClockTrack(before: estimate)
                progress(
                    "connected \(agent.link.role.rawValue) agent '\(agent.name)' at \(agent.link.address) "
                        + "(clock offset \(Self.ms(estimate.offsetNs)) ± \(Self.ms(estimate.errorNs)))")
            }
            info.agents = agentInfo(session, tracks)
            try store.writeRunInfo(info)
            let runner = StepRunner(session: session, log: log)
            for (index, workload) in plan.steps.enumerated() {
                let stepID = "\(workload.spec.stepName)-\(index + 1)"
                if finished.contains(stepID) {
                    progress("step \(stepID): finished before, kept")
                    continue
                }
                progress("step \(stepID): \(StepOutcome.describe(workload))")
                info.steps.append(RunInfo.Step(id: stepID, status: "running"))
                try store.writeRunInfo(info)
                let result = try await runner.run(
                    stepID: stepID, workload: workload, sutDataHost: plan.sutDataHost,
                    sutClock: current[.sut]!, peerClock: current[.peer]!)
                var stepTracks: [Role: ClockTrack] = [:]
                for agent in session.agents {
                    let after = try await session.syncClock(agent)
                    let role = agent.link.role
                    stepTracks[role] = ClockTrack(before: current[role]!, after: after)
                    tracks[role] = ClockTrack(before: tracks[role]!.before, after: after)
                    current[role] = after
                }
                let outcome = StepOutcome(
                    stepID: stepID, workload: workload, sut: result.sut, peer: result.peer,
                    sutClock: stepTracks[.sut]!, peerClock: stepTracks[.peer]!, intervalsByRole: result.intervals,
                    sutName: session.agent(.sut).name, peerName: session.agent(.peer).name)
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
            let index = { (role: Role) in session.agents.first { $0.link.role == role }?.link.index }
            if let sutIndex = index(.sut), let peerIndex = index(.peer),
                session.mailbox.lastFailureOrigin == peerIndex,
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
            guard let track = tracks[agent.link.role] else { continue }
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
        let want = parameters.filter { $0.key.hasPrefix("step") }
        let had = info.parameters.filter { $0.key.hasPrefix("step") }
        if want != had {
            let differing = Set(want.keys).union(had.keys).sorted().first { want[$0] != had[$0] } ?? "steps"
            throw WireError(
                .results,
                "\(plan.outDirectory) holds a different run: \(differing) was '\(had[differing] ?? "absent")', "
                    + "now '\(want[differing] ?? "absent")'; resume with the parameters it was started with")
        }
        return (store, info)
    }

    private var parameters: [String: String] {
        var p = ["sut": plan.sut.description, "peer": plan.peer.description, "sut_data": plan.sutDataHost]
        for (i, workload) in plan.steps.enumerated() {
            p["step\(i + 1)"] = workload.spec.parameters
        }
        return p
    }

    private func agentInfo(_ session: LabSession, _ tracks: [Role: ClockTrack]) -> [RunInfo.Agent] {
        session.agents.map { agent in
            RunInfo.Agent(
                role: agent.link.role.rawValue, name: agent.name, address: agent.link.address.description,
                version: agent.version, host: agent.host, clock: tracks[agent.link.role].map(RunInfo.Clock.init))
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
