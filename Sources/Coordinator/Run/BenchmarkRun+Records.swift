import Foundation
import Shared

/// What a run writes about itself besides its steps: the results directory it opens (or resumes,
/// after checking that it ran the same steps), its parameters, and its agents in `run.json`.
extension BenchmarkRun {
    /// A new results directory, or for `resume` the existing one and its `run.json`, after
    /// checking that it ran the same steps.
    func openStore() throws -> (ResultStore, RunInfo?) {
        guard plan.resume else { return (try ResultStore(directory: plan.outDirectory), nil) }
        let store = try ResultStore(resuming: plan.outDirectory)
        guard let info = store.info else { throw ResultsError("\(plan.outDirectory): no run.json") }
        guard let had = info.plan else {
            throw ResultsError(
                "\(plan.outDirectory): run.json records no step specs (an older lockstep wrote it); start a new run")
        }
        if let before = info.repetition, let now = plan.repetition, before != now {
            throw ResultsError(
                "\(plan.outDirectory) holds a different run: \(SpecDifference.rule(before, now)); resume with the plan it was started with"
            )
        }
        if let difference = SpecDifference.first(had, plan.recorded) {
            throw ResultsError(
                "\(plan.outDirectory) holds a different run: \(difference); resume with the parameters it was started with"
            )
        }
        return (store, info)
    }

    /// The agents' addresses by role (several peers comma-separated) and the SUT's data address.
    var parameters: [String: String] {
        var p = ["sut_data": plan.sutDataHost]
        for target in plan.agents {
            let key = target.role.rawValue
            p[key] = p[key].map { $0 + "," + target.address.description } ?? target.address.description
        }
        return p
    }

    func agentInfo(_ session: LabSession, _ tracks: [Int: ClockTrack]) -> [RunInfo.Agent] {
        session.agents.map { agent in
            RunInfo.Agent(
                role: agent.link.role, name: agent.name, address: agent.link.address.description,
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
                out.append("\(agent.role.rawValue) \(agent.name): \(d)")
            }
        }
        return out
    }
}
