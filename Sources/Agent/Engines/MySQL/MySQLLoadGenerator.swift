import Histogram
import Shared

/// The peer side of the MySQL sweep: `threads` threads, one connection each (``MySQLWorker``),
/// opened and prepared at prepare so the start instant only starts transactions.
final class MySQLLoadGenerator: Engine, @unchecked Sendable {
    let endpoint: Endpoint? = nil
    private let spec: MySQLSpec
    private let stepID: String
    private let events: EngineEventSink
    private let workers: [MySQLWorker]
    private let stop = StopFlag()
    private let stopRequested = StopFlag()

    /// How long a connection may go without an answer before the run fails as stalled.
    static let stallTimeoutNs: Int64 = 10_000_000_000

    init(spec: MySQLSpec, stepID: String, events: @escaping EngineEventSink) throws {
        guard let target = spec.server.external ?? spec.target else {
            throw WireError(.badStep, "mysql load generator without a target")
        }
        self.spec = spec
        self.stepID = stepID
        self.events = events
        workers = try (0..<spec.threads).map { index in
            try MySQLWorker(spec: spec, target: target, seed: SplitMix64.mix(spec.seed &+ UInt64(index) &* 0x9E37_79B9))
        }
    }

    func start(atNs: Int64) {
        let windowStart = atNs + spec.warmupNs
        let windowEnd = windowStart + spec.durationNs
        LoadSupervisor(
            name: "mysql", stepID: stepID, flows: workers, stallTimeoutNs: Self.stallTimeoutNs, stop: stop,
            events: events
        ).start(
            atNs: atNs, windowEnd: windowEnd,
            transactions: { [workers] in workers.reduce(0) { $0 &+ $1.committedCount } },
            work: { [self] index in
                workers[index].run(
                    startNs: atNs, windowStart: windowStart, windowEnd: windowEnd, stop: stop, stopOthers: stop)
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
        var transactions: UInt64 = 0
        for worker in workers {
            merged.add(worker.histogram)
            transactions += worker.transactions
            let counts = worker.inWindow
            totals["queries", default: 0] += Double(counts.queries)
            totals["rows_read", default: 0] += Double(counts.rowsRead)
            totals["errors", default: 0] += Double(counts.errors)
            totals["deadlocks", default: 0] += Double(counts.deadlocks)
            totals["reconnects", default: 0] += Double(counts.reconnects)
            cpuNs += worker.cpuNs
            stoppedNs = max(stoppedNs, worker.stoppedNs)
        }
        totals["client_cpu_seconds"] = Double(cpuNs) / 1e9
        totals["threads"] = Double(workers.count)
        events(
            .finished(
                SideResult(
                    startedNs: startedNs, stoppedNs: stoppedNs, windowStartNs: windowStart,
                    windowEndNs: min(windowEnd, stoppedNs), transactions: transactions, lost: 0,
                    latency: HistogramSnapshot(merged), counters: totals)))
    }
}
