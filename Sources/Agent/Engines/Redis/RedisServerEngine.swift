import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// The SUT side of the Redis sweep. At prepare it gets the session's redis-server (starting one
/// unless the step names an external server) and empties it; while the step runs it watches the
/// server; at stop it reads the server's memory use and key count.
final class RedisServerEngine: Engine, @unchecked Sendable {
    let endpoint: Endpoint?
    private let server: ManagedRedis?
    private let control: Endpoint
    private let events: EngineEventSink
    private let stop = StopFlag()
    /// Raised once the monitor reported the server's death: then no `finished` follows.
    private let failed = StopFlag()
    private var monitor: EngineThread?
    private var startedNs: Int64 = 0

    init(spec: RedisSpec, servers: SessionServers, events: @escaping EngineEventSink) throws {
        self.events = events
        if let external = spec.server.external {
            server = nil
            endpoint = external
            control = external
        } else {
            let bindHost = spec.bindHost ?? "127.0.0.1"
            let managed = try servers.redis(
                ManagedRedis.Key(
                    binary: spec.server.binary ?? "redis-server", bindHost: bindHost, port: spec.server.port,
                    cpu: spec.server.cpu))
            server = managed
            endpoint = managed.endpoint
            control = Endpoint(host: bindHost == "0.0.0.0" ? "127.0.0.1" : bindHost, port: managed.endpoint.port)
        }
        let client = try RedisControl(control)
        if spec.flush { _ = try client.call("FLUSHALL") }
        _ = try client.call("CONFIG", "RESETSTAT")
    }

    func start(atNs: Int64) {
        monitor = EngineThread(name: "redis-monitor") { [self] in
            startedNs = MonotonicClock.sleepThenSpin(until: atNs)
            events(.started(startedNs))
            while !stop.isRaised {
                usleep(20_000)
                if let failure = server?.failure() {
                    failed.raise()
                    events(.failed(WireError(.serverFailed, "\(failure) during the step")))
                    return
                }
            }
        }
    }

    func requestStop() {
        guard !stop.isRaised else { return }
        stop.raise()
        _ = EngineThread(name: "redis-stop") { [self] in
            monitor?.join()
            guard !failed.isRaised else { return }
            let stoppedNs = MonotonicClock.now()
            var counters: [String: Double] = [:]
            if let client = try? RedisControl(control) {
                counters["redis_used_memory_bytes"] = try? client.info("memory", field: "used_memory")
                counters["redis_keys"] = (try? client.dbSize()).map(Double.init)
            }
            events(
                .finished(
                    SideResult(
                        startedNs: startedNs, stoppedNs: stoppedNs, windowStartNs: startedNs, windowEndNs: stoppedNs,
                        transactions: 0, lost: 0, latency: nil, counters: counters)))
        }
    }
}
