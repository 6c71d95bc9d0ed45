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
    private let step: StepSpec
    private let events: EngineEventSink
    private let keys: RedisKeySpace
    private let workers: [RedisWorker]
    private let stop = StopFlag()
    private let stopRequested = StopFlag()

    init(_ spec: RedisSpec, step: StepSpec, events: @escaping EngineEventSink) throws {
        guard let target = spec.server.external ?? step.placement.target else {
            throw WireError(.badStep, "redis load generator without a target")
        }
        try EngineThread.checkPinning(step.placement.cpus(for: step.role))
        self.spec = spec
        self.step = step
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
                seed: SplitMix64.mix(spec.seed &+ UInt64(index) &* 0x9E37_79B9),
                rate: OpenLoop.share(spec.rate, units: connections.count, of: spec.connections), index: index,
                of: threadCount)
        }
    }

    /// How long the server may answer nothing before the step fails as stalled: 3 s, or half the
    /// window in a longer one. A shorter stall is a measurement, not a failure: the workers end at the
    /// window's end by themselves, and the steady-state check marks the step suspect.
    static func stallTimeoutNs(_ timing: StepTiming) -> Int64 { max(3_000_000_000, timing.durationNs / 2) }

    func start(atNs: Int64) {
        let stallNs = Self.stallTimeoutNs(step.timing)
        for worker in workers { worker.stallSeconds = Int(stallNs / 1_000_000_000) }
        LoadSupervisor(
            name: "redis", stepID: step.stepID, workers: workers, stallTimeoutNs: stallNs,
            cpus: step.placement.cpus(for: step.role), stop: stop, stopRequested: stopRequested, events: events
        ).start(atNs: atNs, timing: step.timing) { [keys] totals in
            let t = totals.tally
            return SideOutcome(
                RedisClientResult(
                    operations: t.gets + t.sets, latency: HistogramSnapshot(t.histogram), gets: t.gets, sets: t.sets,
                    hits: t.hits, misses: t.misses, errors: t.errors, valueMismatches: t.mismatches,
                    keys: UInt64(keys.created), load: totals.load))
        }
    }

    func requestStop() {
        stopRequested.raise()
        stop.raise()
    }
}
