import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// The SUT side of the Redis sweep. At prepare it gets the session's redis-server (starting one
/// unless the step names an external server) and empties it; while the step runs it watches the
/// server; at stop it reads the server's memory use and key count.
final class RedisServerEngine: Engine, @unchecked Sendable {
    let endpoint: Endpoint?
    private let control: Endpoint
    private let watch: ServerWatch

    init(_ spec: RedisSpec, step: StepSpec, servers: SessionServers, events: @escaping EngineEventSink) throws {
        let server: ManagedRedis?
        if let external = spec.server.external {
            server = nil
            endpoint = external
            control = external
        } else {
            let bindHost = step.placement.bindHost
            let managed = try servers.redis(
                ManagedRedis.Key(
                    binary: spec.server.binary ?? "redis-server", bindHost: bindHost,
                    port: spec.server.port ?? step.placement.dataPort,
                    cpus: step.placement.cpus(for: step.role)))
            server = managed
            endpoint = managed.endpoint
            control = Endpoint(host: bindHost == "0.0.0.0" ? "127.0.0.1" : bindHost, port: managed.endpoint.port)
        }
        watch = ServerWatch(name: "redis", server: server, events: events)
        let client = try RedisControl(control)
        if spec.flush { _ = try client.call("FLUSHALL") }
        _ = try client.call("CONFIG", "RESETSTAT")
    }

    func start(atNs: Int64) { watch.start(atNs: atNs) }

    func requestStop() {
        watch.requestStop { [control] in
            let client = try? RedisControl(control)
            return SideOutcome(
                RedisServerResult(
                    keys: (try? client?.dbSize()).map { UInt64(max($0, 0)) },
                    usedMemoryBytes: (try? client?.info("memory", field: "used_memory")) ?? nil))
        }
    }
}
