import Shared

/// An agent that comes back: the run's own agents (the SUT's host agent and the peers) whose
/// connection died are connected afresh before the next step, and a step during which one went
/// away runs again (`runSchedule` drives both).
extension BenchmarkRun {
    /// How often a step runs at most when agents go away during it.
    static let stepAttempts = 3

    /// The first of the run's own agents (the SUT's host agent and the peers, not guests) whose
    /// connection died, if any.
    func lostAgent(_ session: LabSession) -> ConnectedAgent? {
        let own = Set(plan.agents.map { "\($0.role.rawValue)@\($0.address)" })
        return session.agents.first {
            !session.mailbox.isAlive($0.link.index) && own.contains("\($0.link.role.rawValue)@\($0.link.address)")
        }
    }

    /// Connects afresh every agent of the run whose connection died: its clock synced anew, what
    /// changed on its host recorded, and, for the SUT's host, its guests forgotten (they ended with
    /// it; the next step of a mode places a new one). Counted in `run.json` (`reconnects`).
    func reconnectLost(_ session: LabSession, _ state: inout RunState) async throws {
        guard plan.reconnectWaitNs > 0 else { return }
        await session.mailbox.catchUp()
        while let lost = lostAgent(session) {
            progress("agent \(lost.name) at \(lost.link.address) went away: connecting afresh")
            if lost.link.role == .sut {
                // Its guests ended with it: their links are no longer watched.
                for (_, guest) in state.guests { session.mailbox.forget(guest.agent.link.index) }
            }
            let before = state.info.agents
            let fresh = try await session.reconnect(lost, withinNs: plan.reconnectWaitNs)
            state.tracks[lost.link.index] = nil
            state.current[lost.link.index] = nil
            let estimate = try await sync(fresh, session, &state)
            if lost.link.role == .sut {
                // Its guests ended with it; their links are dead and their placements swept.
                state.guests = [:]
            }
            state.info.reconnects = (state.info.reconnects ?? 0) + 1
            state.info.agents = agentInfo(session, state.tracks)
            for line in Self.provenanceChanges(before, state.info.agents) {
                progress("provenance changed when \(fresh.name) came back: \(line)")
                state.info.provenance_changed = (state.info.provenance_changed ?? []) + [line]
            }
            try state.store.writeRunInfo(state.info)
            progress(
                "reconnected \(fresh.link.role.rawValue) agent '\(fresh.name)' at \(fresh.link.address) "
                    + "(clock offset \(Self.ms(estimate.offsetNs)) ± \(Self.ms(estimate.errorNs)))")
        }
    }

    /// The running step's entry in `run.json` marked failed (a redone step gets an entry of its own).
    func markRunningStepFailed(_ message: String, _ state: inout RunState) {
        guard let last = state.info.steps.indices.last, state.info.steps[last].status == .running else { return }
        state.info.steps[last].status = .failed
        state.info.steps[last].error = message
        if let observed = state.observed { observer?.stepFailed(observed, error: message) }
    }
}
