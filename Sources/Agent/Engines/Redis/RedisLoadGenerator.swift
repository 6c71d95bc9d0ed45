import Foundation
import Histogram
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
        let windowStart = atNs + spec.warmupNs
        let windowEnd = windowStart + spec.durationNs
        LoadSupervisor(
            name: "redis", stepID: stepID, flows: workers, stallTimeoutNs: 3_000_000_000, stop: stop, events: events
        ).start(
            atNs: atNs, windowEnd: windowEnd,
            transactions: { [workers] in workers.reduce(0) { $0 &+ $1.progressCount } },
            work: { [self] index in
                workers[index].run(
                    startNs: atNs, windowStart: windowStart, windowEnd: windowEnd, spin: index == 0, stop: stop)
            },
            finish: { [self] started in finish(startedNs: started, windowStart: windowStart, windowEnd: windowEnd) })
    }

    func requestStop() {
        stopRequested.raise()
        stop.raise()
    }

    private func finish(startedNs: Int64, windowStart: Int64, windowEnd: Int64) {
        if !stopRequested.isRaised, let failure = workers.lazy.compactMap(\.error).first {
            events(.failed(failure))
            return
        }
        var merged = HistogramSnapshot.makeLatencyHistogram()
        var totals: [String: Double] = [:]
        var cpuNs: Int64 = 0
        var stoppedNs = startedNs
        for worker in workers {
            merged.add(worker.histogram)
            totals["get_ops", default: 0] += Double(worker.gets)
            totals["set_ops", default: 0] += Double(worker.sets)
            totals["hits", default: 0] += Double(worker.hits)
            totals["misses", default: 0] += Double(worker.misses)
            totals["errors", default: 0] += Double(worker.errors)
            totals["value_mismatches", default: 0] += Double(worker.mismatches)
            cpuNs += worker.cpuNs
            stoppedNs = max(stoppedNs, worker.stoppedNs)
        }
        totals["keys"] = Double(keys.created)
        totals["client_cpu_seconds"] = Double(cpuNs) / 1e9
        totals["threads"] = Double(workers.count)
        let operations = UInt64((totals["get_ops"] ?? 0) + (totals["set_ops"] ?? 0))
        events(
            .finished(
                SideResult(
                    startedNs: startedNs, stoppedNs: stoppedNs, windowStartNs: windowStart,
                    windowEndNs: min(windowEnd, stoppedNs), transactions: operations, lost: 0,
                    latency: HistogramSnapshot(merged), counters: totals)))
    }
}
