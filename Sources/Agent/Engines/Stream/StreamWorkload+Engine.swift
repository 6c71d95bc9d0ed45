import Shared

extension StreamWorkload: EngineWorkload {
    /// One engine for both ends: the SUT listens, a peer connects; the direction decides who sends.
    static func engine(_ spec: StreamSpec, step: StepSpec, context: EngineContext) throws -> any Engine {
        try StreamEngine(spec, step: step, events: context.events)
    }
}
