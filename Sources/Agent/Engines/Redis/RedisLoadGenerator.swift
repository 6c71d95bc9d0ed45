import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// The peer side of the Redis sweep: `connections` persistent connections to the SUT's
/// redis-server, spread over worker threads that each drive theirs with epoll (``RedisWorker``).
/// Connections are opened at prepare, so the start instant only starts sending.
final class RedisLoadGenerator: Engine, @unchecked Sendable {
    let endpoint: Endpoint? = nil
    private let spec: RedisSpec
    private let stepID: String
    private let events: EngineEventSink
    private let keys: RedisKeySpace
    private let workers: [RedisWorker]
    private let stop = StopFlag()
    private let stopRequested = StopFlag()

    init(spec: RedisSpec, stepID: String, events: @escaping EngineEventSink) throws {
        guard let target = spec.server.external ?? spec.target else {
            throw WireError(.badStep, "redis load generator without a target")
        }
        self.spec = spec
        self.stepID = stepID
        self.events = events
        let keys = RedisKeySpace(spec: spec)
        self.keys = keys
        let threadCount = min(spec.threads ?? ProcessInfo.processInfo.activeProcessorCount, spec.connections)
        var perThread = [[RedisConnection]](repeating: [], count: threadCount)
        for index in 0..<spec.connections {
            let fd = try Socket.connected(to: target, type: Int32(SOCK_STREAM.rawValue), noDelay: true)
            perThread[index % threadCount].append(RedisConnection(fd: fd, spec: spec, index: index))
        }
        workers = perThread.enumerated().map { index, connections in
            RedisWorker(
                connections: connections, keys: keys, target: target,
                seed: SplitMix64.mix(spec.seed &+ UInt64(index) &* 0x9E37_79B9))
        }
    }

    func start(atNs: Int64) {
        LoadSupervisor(
            name: "redis", stepID: stepID, workers: workers, stallTimeoutNs: 3_000_000_000, stop: stop,
            stopRequested: stopRequested, events: events
        ).start(atNs: atNs, warmupNs: spec.warmupNs, durationNs: spec.durationNs) { [keys] in
            ["keys": Double(keys.created)]
        }
    }

    func requestStop() {
        stopRequested.raise()
        stop.raise()
    }
}
