import Shared

extension RRWorkload: EngineWorkload {
    /// The responder on the SUT, the flows on a peer.
    static func engine(_ spec: RRSpec, step: StepSpec, context: EngineContext) throws -> any Engine {
        step.role == .sut
            ? try RRResponder(spec, step: step, events: context.events)
            : try RRClient(spec, step: step, events: context.events)
    }
}
