import Foundation
import Shared

/// Drives a whole run as a sequence of named steps: open the results, connect and sync the agents,
/// then for each scheduled step stage it (split the load, place a guest), run it, collect the sides
/// (re-synced clocks) and record it; on any failure abort every agent and still write what it has;
/// at the end fetch the logs, release the guests and write the merged log.
struct BenchmarkRun {
    let plan: RunPlan
    /// Progress lines for the user (stderr).
    var progress: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    /// The live status line (step, rate so far, steps done, elapsed, ETA); `nil`: event lines only.
    var live: RunProgress?
    /// What watches the run (`--serve`, `--metrics`, `--events`, `--grafana`).
    var observer: (any RunObserver)?

    /// Runs the plan; returns the finished steps, or throws the first failure after writing results.
    func run() async throws -> [StepOutcome] {
        if let problem = plan.missingPeers { throw WireError(.badStep, problem) }
        var state = try openRun()
        let session = LabSession(token: plan.token, log: state.log, heartbeatTimeoutNs: plan.heartbeatTimeoutNs)
        var failure: WireError?
        do {
            try await connect(session, &state)
            try await runSchedule(session, &state)
            state.info.status = .complete
        } catch {
            failure = await recordFailure(error, session, &state)
        }
        try await close(session, &state)
        if let failure { throw WireError(failure.code, state.info.error ?? failure.message) }
        return state.outcomes
    }

    // MARK: - The run's steps

    /// A new results directory with a fresh `run.json`, or the resumed one with only its finished
    /// steps kept.
    private func openRun() throws -> RunState {
        let sinceNs = MonotonicClock.now()
        let (store, earlier) = try openStore()
        let runID = earlier?.run_id ?? Self.makeRunID()
        let observer = self.observer
        var info =
            earlier
            ?? RunInfo(
                run_id: runID, command: plan.command, started_at: Self.wallClock(), status: .running,
                parameters: parameters, coordinator: HostFacts.current(softwareVersion: LockstepVersion.current),
                plan: plan.recorded, repetition: plan.repetition)
        if info.clock_origin == nil { info.clock_origin = RunInfo.ClockOrigin.now() }
        if earlier != nil {
            // Only finished steps stay; the rest run again.
            info.steps = info.steps.filter { $0.status == .complete }
            info.status = .running
            info.error = nil
            info.finished_at = nil
            info.resumed_at = (info.resumed_at ?? []) + [Self.wallClock()]
        }
        var onRecord: (@Sendable (LogRecord) -> Void)?
        if let observer { onRecord = { observer.logged($0) } }
        let state = RunState(
            store: store, info: info, log: RunLog(runID: runID, observer: onRecord), resumed: earlier != nil,
            earlierLog: earlier != nil ? store.mergedLogLines() : [], sinceNs: sinceNs)
        try store.writeRunInfo(info)
        if earlier == nil, let text = plan.planText { try store.writePlan(text) }
        state.log.record(earlier == nil ? "run.begin" : "run.resume", ["out": plan.outDirectory])
        observer?.runBegan(
            runID: runID, directory: plan.outDirectory, command: plan.command, startedAt: info.started_at)
        return state
    }

    /// Connects and authenticates every agent, syncs their clocks, records them (and what changed
    /// since a resumed run began) and checks that the SUT's host can place every mode of the plan.
    private func connect(_ session: LabSession, _ state: inout RunState) async throws {
        try await session.connect(
            plan.agents.map { ($0.role, $0.address) }, busyWaitNs: plan.busyWaitNs,
            onBusy: { progress("\($0); waiting up to \(Self.seconds(plan.busyWaitNs)) for its session to end") })
        for agent in session.agents {
            let estimate = try await sync(agent, session, &state)
            progress(
                "connected \(agent.link.role.rawValue) agent '\(agent.name)' at \(agent.link.address) "
                    + "(clock offset \(Self.ms(estimate.offsetNs)) ± \(Self.ms(estimate.errorNs)))")
        }
        let agentsBefore = state.info.agents
        state.info.agents = agentInfo(session, state.tracks)
        if state.resumed {
            let changed = Self.provenanceChanges(agentsBefore, state.info.agents)
            for line in changed { progress("provenance changed since the run began: \(line)") }
            if !changed.isEmpty { state.info.provenance_changed = (state.info.provenance_changed ?? []) + changed }
        }
        try state.store.writeRunInfo(state.info)
        try await checkPrerequisites(on: session.agents(.sut)[0], session: session)
    }

    /// Runs the schedule's steps in order; a step finished before a resume is kept, not run.
    private func runSchedule(_ session: LabSession, _ state: inout RunState) async throws {
        var runner = StepRunner(session: session, log: state.log)
        if let live { runner.onInterval = { _, sample in live.interval(sample) } }
        var schedule = plan.schedule()
        // After `openRun`, `info.steps` holds only finished steps.
        let kept = Dictionary(state.info.steps.map { ($0.id, $0) }) { a, _ in a }
        var ranBefore = false
        while let scheduled = schedule.next() {
            if let earlierStep = kept[scheduled.id] {
                progress("step \(scheduled.id): finished before, kept")
                schedule.record(scheduled, headline: earlierStep.headline)
                state.done += 1
                continue
            }
            if ranBefore, let cooldown = plan.repetition?.cooldownNs, cooldown > 0 {
                try await Task.sleep(nanoseconds: UInt64(cooldown))
            }
            ranBefore = true
            let (outcome, evidence, attempts, current) = try await runJudged(
                scheduled, &runner, &schedule, session, &state)
            let samples = outcome.samples(runID: state.log.runID)
            schedule.record(
                scheduled,
                headline: try record(
                    outcome, samples: samples, evidence: evidence, attempts: attempts, current, session, &state))
            if let (achieved, offered) = Self.shortfall(outcome, samples: samples) {
                let skipped = schedule.saturated(scheduled)
                let cause = Self.shortfallCause(outcome)
                progress(
                    String(format: "step %@: achieved %.0f/s of %.0f/s offered: ", scheduled.id, achieved, offered)
                        + cause + (skipped.isEmpty ? "" : "; higher rates skipped: \(skipped.joined(separator: ", "))")
                )
                state.log.record(
                    "step.saturated", step: scheduled.id,
                    [
                        "achieved": String(achieved), "offered": String(offered), "cause": cause,
                        "skipped": skipped.joined(separator: ","),
                    ])
            }
        }
    }

    /// Runs a step and judges it; with `--retry-suspect N` a suspect step runs again (at most N
    /// times) with what its verdict suggests. Returns the last attempt with its checks, its evidence,
    /// the earlier suspect attempts and the step as it last ran.
    private func runJudged(
        _ scheduled: ScheduledStep, _ runner: inout StepRunner, _ schedule: inout some StepSchedule,
        _ session: LabSession, _ state: inout RunState
    ) async throws -> (StepOutcome, StepEvidence, [RunInfo.Attempt], ScheduledStep) {
        var current = scheduled
        var outcome = try await runAttempts(current, &runner, &schedule, session, &state)
        var attempts: [RunInfo.Attempt] = []
        var judged = judge(outcome, current, state)
        while Verdict(judged.checks) == .suspect, attempts.count < plan.retrySuspect,
            let (again, change) = Self.retry(current, after: judged.checks)
        {
            outcome.checks = judged.checks
            progress("step \(scheduled.id): \(Self.verdictText(outcome)): running it again with \(change)")
            let headline = outcome.headline(in: outcome.samples(runID: state.log.runID))
            attempts.append(RunInfo.Attempt(headline: headline, checks: judged.checks, adjusted: change))
            // The attempt leaves no entry: the step is run (and announced) again under its id.
            if let last = state.info.steps.indices.last, state.info.steps[last].id == scheduled.id {
                state.info.steps.removeLast()
            }
            state.outcomes.removeLast()
            current = again
            outcome = try await runAttempts(current, &runner, &schedule, session, &state)
            judged = judge(outcome, current, state)
        }
        outcome.checks = judged.checks
        state.outcomes[state.outcomes.count - 1] = outcome
        return (outcome, judged.evidence, attempts, current)
    }

    /// Runs one attempt of a step; an agent lost during it is connected afresh and the step runs
    /// again (at most ``stepAttempts`` times, with `--reconnect-wait`).
    private func runAttempts(
        _ scheduled: ScheduledStep, _ runner: inout StepRunner, _ schedule: inout some StepSchedule,
        _ session: LabSession, _ state: inout RunState
    ) async throws -> StepOutcome {
        var attempt = 1
        while true {
            // An agent that went away since the last step (a reboot) is connected afresh first.
            do {
                try await reconnectLost(session, &state)
            } catch let error as WireError where attempt > 1 {
                throw WireError(error.code, "\(error.message) (step \(scheduled.id) was to run again)")
            }
            do {
                return try await runStep(scheduled, &runner, &schedule, session, &state)
            } catch let error as WireError {
                // An agent went away during the step (its loss may be read after another
                // agent's report of what it did to them): the step fails, the agents still here
                // abandon it, the lost one is connected afresh and the step runs again.
                guard plan.reconnectWaitNs > 0 else { throw error }
                await session.mailbox.catchUp()
                guard attempt < Self.stepAttempts, lostAgent(session) != nil else { throw error }
                attempt += 1
                let name = lostAgent(session)?.name ?? "?"
                progress("step \(scheduled.id): \(error.message); agent \(name) went away: running the step again")
                markRunningStepFailed(error.message, &state)
                state.info.steps_redone = (state.info.steps_redone ?? 0) + 1
                session.abortAll(reason: "step \(scheduled.id) is run again: agent \(name) went away")
                await session.mailbox.settle(forNs: 1_000_000_000)
                try state.store.writeRunInfo(state.info)
            }
        }
    }

    /// Stages, announces, runs and collects one step.
    private func runStep(
        _ scheduled: ScheduledStep, _ runner: inout StepRunner, _ schedule: inout some StepSchedule,
        _ session: LabSession, _ state: inout RunState
    ) async throws -> StepOutcome {
        let stage = try await self.stage(scheduled.planned, session, &state)
        announce(scheduled, stage, remaining: schedule.remaining, &state)
        if let observer, let observed = state.observed {
            runner.onAnySample = { agent, role, sample, load in
                observer.interval(observed, agent: agent, role: role, sample: sample, load: load)
            }
        }
        try state.store.writeRunInfo(state.info)
        let results = try await runner.run(
            stepID: scheduled.id, plan: stage.step, participants: stage.participants, dataHost: stage.dataHost,
            bindHost: stage.bindHost, portMap: stage.portMap, clocks: state.current, shares: stage.shares)
        return try await collect(results, scheduled, stage, session, &state)
    }

    /// An open-loop step whose achieved rate fell short of the offered by more than
    /// ``OpenLoop/saturationShortfall``: both rates; `nil` otherwise (and in closed loop).
    static func shortfall(_ outcome: StepOutcome, samples: [MetricSample]) -> (achieved: Double, offered: Double)? {
        guard let offered = outcome.plan.openLoopRate, let achieved = achievedRate(outcome, samples: samples) else {
            return nil
        }
        return achieved < offered * (1 - OpenLoop.saturationShortfall) ? (achieved, offered) : nil
    }

    /// An open-loop step's achieved rate: its workload's interval rate metric (or first per-second
    /// headline) among the step's own samples, all peers together.
    static func achievedRate(_ outcome: StepOutcome, samples: [MetricSample]) -> Double? {
        let type = outcome.plan.workload.type
        guard let metric = type.intervalRate ?? type.catalog.headline.first(where: { $0.unit.hasSuffix("/s") })
        else { return nil }
        return samples.first(where: {
            $0.metric == metric.name && $0.labels["kind"] != "interval" && $0.labels["peer"] == nil
        })?.value
    }

    /// Where the step runs and who takes part: the SUT (a guest placed for its mode, with the host
    /// agent metering), and the peers its workload's shape asks for, each with its share of the load.
    private func stage(_ planned: PlannedStep, _ session: LabSession, _ state: inout RunState) async throws
        -> StepStage
    {
        var stage = StepStage(step: planned, sut: session.agents(.sut)[0], dataHost: plan.sutDataHost)
        let peerAgents = session.agents(.peer)
        if planned.workload.shape.needsPeers {
            guard !peerAgents.isEmpty else {
                throw WireError(.badStep, "\(planned.workload.name) needs at least one peer agent (--peer)")
            }
            stage.split(planned.workload, among: peerAgents)
        }
        let mode = planned.placement.mode
        guard mode.hasGuest else { return stage }
        let key = GuestKey(planned.placement, plan: plan)
        if state.guests[key] == nil { state.guests[key] = try await placeGuest(key, for: planned, session, &state) }
        let (guest, placed) = state.guests[key]!
        stage.place(in: guest, placed, host: session.agents(.sut)[0])
        return stage
    }

    /// Says what runs next and marks it running in `run.json`.
    private func announce(
        _ scheduled: ScheduledStep, _ stage: StepStage, remaining left: (expected: Int, atMost: Int),
        _ state: inout RunState
    ) {
        let done = state.done
        let total = "\(done + left.expected)" + (left.atMost > left.expected ? "-\(done + left.atMost)" : "")
        progress("step \(scheduled.id) (\(done + 1) of \(total)): \(StepOutcome.describe(stage.step))")
        let observed = ObservedStep(
            scheduled.id, cell: scheduled.cell, repetition: scheduled.repetition, step: stage.step)
        state.observed = observed
        observer?.stepBegan(
            observed, done: done, total: total, lengthNs: Self.estimatedNs(stage.step),
            remainingNs: Int64(left.expected - 1) * Self.estimatedNs(stage.step))
        live?.began(
            step: scheduled.id, done: done, total: total, lengthNs: Self.estimatedNs(stage.step),
            remainingNs: Int64(left.expected - 1) * Self.estimatedNs(stage.step),
            rateUnit: (stage.step.workload.type.intervalRate ?? CommonMetrics.Interval.transactionsPerSec).unit)
        state.info.steps.append(
            RunInfo.Step(id: scheduled.id, status: .running, cell: scheduled.cell, repetition: scheduled.repetition))
    }

    /// Every agent's side of the finished step, each with its clock re-synced after the step.
    private func collect(
        _ results: [(agent: ConnectedAgent, role: Role, result: SideResult, intervals: [IntervalSample])],
        _ scheduled: ScheduledStep, _ stage: StepStage, _ session: LabSession, _ state: inout RunState
    ) async throws -> StepOutcome {
        var sides: [AgentSide] = []
        for (agent, role, result, intervals) in results {
            let index = agent.link.index
            let before = state.current[index]!
            let after = try await session.syncClock(agent)
            sides.append(
                AgentSide(
                    index: index, role: role, name: agent.name, result: result,
                    clock: ClockTrack(before: before, after: after), intervals: intervals,
                    realtimeStart: agent.host.realtimeStarts, share: stage.shares[index]))
            state.tracks[index] = state.tracks[index]!.extended(to: after)
            state.current[index] = after
            observer?.clock(agent: agent.name, role: role, offsetNs: after.offsetNs, errorNs: after.errorNs)
        }
        let outcome = StepOutcome(
            stepID: scheduled.id, plan: scheduled.planned, sides: sides, cell: scheduled.cell,
            repetition: scheduled.repetition, modeLabels: stage.modeLabels)
        state.outcomes.append(outcome)
        return outcome
    }

    /// Writes the step's samples, histogram, checks' evidence, aggregates or summary and its
    /// `complete` entry in `run.json` with its verdict, in that order (a step is marked complete only
    /// once its samples are on disk); returns its headline for the schedule.
    private func record(
        _ outcome: StepOutcome, samples: [MetricSample], evidence: StepEvidence, attempts: [RunInfo.Attempt],
        _ scheduled: ScheduledStep, _ session: LabSession, _ state: inout RunState
    ) throws -> Double? {
        try state.store.append(samples)
        if let hgrm = outcome.hgrm { try state.store.writeHistogram(step: scheduled.id, text: hgrm) }
        try state.store.writeEvidence(evidence)
        let headline = outcome.headline(in: samples)
        let window = outcome.window
        state.info.steps[state.info.steps.count - 1] = RunInfo.Step(
            id: scheduled.id, status: .complete, window_start_ns: window.start, window_end_ns: window.end,
            start_skew_ns: outcome.startSkewNs, clock_offset_error_ns: outcome.clockErrorNs, cell: scheduled.cell,
            repetition: scheduled.repetition, headline: headline,
            engine: outcome.sides.compactMap(\.result.outcome.value.engineCommand).first, verdict: outcome.verdict,
            checks: outcome.checks, suspect_attempts: attempts.isEmpty ? nil : attempts)
        updateRepeatability(cell: scheduled.cell, with: outcome.checks ?? [], &state)
        state.info.agents = agentInfo(session, state.tracks)
        try writeAggregates(&state)
        try state.store.writeRunInfo(state.info)
        state.log.record("step.written", step: scheduled.id, ["verdict": outcome.verdict?.rawValue ?? ""])
        state.done += 1
        progress(
            "step \(scheduled.id): done, \(StepOutcome.headlineText(outcome, headline)), \(Self.verdictText(outcome))")
        for check in outcome.failedChecks { progress("  \(check.summary)") }
        if let observer, let observed = state.observed {
            observer.stepFinished(
                observed, samples: samples, outcome: outcome,
                windowWall: state.info.clock_origin?.interval(window.start, window.end))
        }
        return headline
    }

    /// A plan's aggregates (and the cells whose hosts changed between repetitions), or a command's summary.
    private func writeAggregates(_ state: inout RunState) throws {
        guard let rule = plan.repetition else { return try state.store.writeSummary() }
        let rows = try state.store.writeAggregates(rule: rule, cells: PlanFile.cells(plan.steps))
        observer?.aggregates(rows)
        for row in rows where row.headline {
            for host in row.provenance_changed ?? [] {
                let line = "cell \(row.cell): host \(host) changed between repetitions"
                if !(state.info.provenance_changed ?? []).contains(line) {
                    state.info.provenance_changed = (state.info.provenance_changed ?? []) + [line]
                    progress("provenance: \(line)")
                }
            }
        }
    }

    /// Records the run's failure (preferring the SUT's own cause over a peer's lost connection) in
    /// `run.json` and aborts every agent; returns the failure.
    private func recordFailure(_ error: Error, _ session: LabSession, _ state: inout RunState) async -> WireError {
        var wire = (error as? any LockstepError)?.asWireError ?? WireError(.aborted, "\(error)")
        // A peer that lost its connections is usually the effect; the SUT may know the cause.
        let sutIndex = session.agents.first { $0.link.role == .sut }?.link.index
        let peerIndices = Set(session.agents.filter { $0.link.role == .peer }.map(\.link.index))
        if let sutIndex, let origin = session.mailbox.lastFailureOrigin, peerIndices.contains(origin),
            [.dataPlane, .dataPlaneStalled, .serverProtocol, .serverFailed].contains(wire.code),
            let cause = await session.mailbox.failure(from: sutIndex, within: 1_000_000_000)
        {
            wire = WireError(cause.code, "\(cause.message) (\(wire.message))")
        }
        let stepText = state.info.steps.last.map { $0.status == .running ? " in step \($0.id)" : "" } ?? ""
        state.info.status = .failed
        state.info.error = wire.message + stepText
        if let last = state.info.steps.indices.last, state.info.steps[last].status == .running {
            state.info.steps[last].status = .failed
            state.info.steps[last].error = wire.message
            if let observed = state.observed { observer?.stepFailed(observed, error: wire.message) }
        }
        session.abortAll(reason: wire.message)
        state.log.record("run.failed", level: "error", ["error": wire.description])
        return wire
    }

    /// Fetches every live agent's log, releases the guests, closes the session and writes the merged
    /// log and the final `run.json`.
    private func close(_ session: LabSession, _ state: inout RunState) async throws {
        live?.finish()
        state.log.record("run.end", ["status": state.info.status.rawValue])
        var agentLogs: [(records: [LogRecord], clock: ClockTrack)] = []
        for agent in session.agents where session.mailbox.isAlive(agent.link.index) {
            guard let track = state.tracks[agent.link.index] else { continue }
            do {
                agentLogs.append((try await session.fetchLog(agent), track))
            } catch {
                state.log.record("log.fetch.failed", level: "warning", ["agent": agent.name, "error": "\(error)"])
            }
        }
        await releaseGuests(session, log: state.log)
        await session.close()
        state.info.finished_at = Self.wallClock()
        state.info.agents = agentInfo(session, state.tracks)
        defer { observer?.runEnded(status: state.info.status, error: state.info.error) }
        try state.store.writeMergedLog(
            MergedLog.merge(coordinator: state.log.all, agents: agentLogs, sinceNs: state.sinceNs - 1_000_000_000),
            after: state.earlierLog)
        try state.store.writeRunInfo(state.info)
    }

    /// Estimates `agent`'s clock and starts its track.
    @discardableResult
    func sync(_ agent: ConnectedAgent, _ session: LabSession, _ state: inout RunState) async throws -> ClockEstimate {
        let estimate = try await session.syncClock(agent)
        observer?.clock(
            agent: agent.name, role: agent.link.role, offsetNs: estimate.offsetNs, errorNs: estimate.errorNs)
        state.current[agent.link.index] = estimate
        state.tracks[agent.link.index] = ClockTrack(before: estimate)
        return estimate
    }

    // MARK: - Small pieces

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
