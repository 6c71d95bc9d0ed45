import Shared

extension RedisWorkload: EngineWorkload {
    /// The session's redis-server on the SUT, the load generator on a peer.
    static func engine(_ spec: RedisSpec, step: StepSpec, context: EngineContext) throws -> any Engine {
        step.role == .sut
            ? try RedisServerEngine(spec, step: step, servers: context.servers, events: context.events)
            : try RedisLoadGenerator(spec, step: step, events: context.events)
    }
}
