import Shared

extension MySQLWorkload: EngineWorkload {
    /// The session's MariaDB/MySQL on the SUT, the OLTP clients on a peer.
    static func engine(_ spec: MySQLSpec, step: StepSpec, context: EngineContext) throws -> any Engine {
        step.role == .sut
            ? try MySQLServerEngine(spec, step: step, servers: context.servers, events: context.events)
            : try MySQLLoadGenerator(spec, step: step, events: context.events)
    }
}
