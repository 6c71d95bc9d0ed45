import Shared

/// What an engine may need from the session besides its step: the session's managed servers, its
/// placed guests, its data folders, and where to report.
struct EngineContext: Sendable {
    let servers: SessionServers
    let guests: SessionGuests
    let data: SessionData
    let events: EngineEventSink
}

/// A workload the agent can run: its ``WorkloadType`` plus the engine for each role. The built-in
/// workloads conform in `Engines/<Workload>/`; a workload registered elsewhere (a test's) conforms
/// where it is declared. ``EngineFactory`` finds it by the step's workload name.
protocol EngineWorkload: WorkloadType {
    /// The engine of `step.role` (sut or peer) for `spec`.
    static func engine(_ spec: Spec, step: StepSpec, context: EngineContext) throws -> any Engine
}

/// Builds the engine a step asks for: the host agent's meter for the `host` role, otherwise the
/// step's workload type's engine.
enum EngineFactory {
    static func make(
        _ spec: StepSpec, servers: SessionServers, guests: SessionGuests, data: SessionData,
        events: @escaping EngineEventSink
    ) throws -> any Engine {
        if let problem = spec.problems().first { throw WireError(.badStep, problem) }
        if spec.role == .host {
            return HostMeter(counters: { [mode = spec.placement.mode] in guests.natPackets(mode) }, events: events)
        }
        guard let type = WorkloadRegistry.type(named: spec.workload.name) as? any EngineWorkload.Type else {
            throw WireError(.badStep, "this agent has no engine for workload \(spec.workload.name)")
        }
        return try make(
            type, spec, context: EngineContext(servers: servers, guests: guests, data: data, events: events))
    }

    private static func make<W: EngineWorkload>(_ type: W.Type, _ step: StepSpec, context: EngineContext) throws
        -> any Engine
    {
        guard let spec = step.workload.spec(W.Spec.self) else {
            throw WireError(.badStep, "step \(step.stepID): not a \(W.name) spec")
        }
        return try W.engine(spec, step: step, context: context)
    }
}
