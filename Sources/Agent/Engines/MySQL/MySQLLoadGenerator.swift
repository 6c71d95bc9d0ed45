import Shared

/// The peer side of the MySQL sweep: `threads` threads, one connection each (``MySQLWorker``),
/// opened and prepared at prepare so the start instant only starts transactions.
final class MySQLLoadGenerator: Engine, @unchecked Sendable {
    let endpoint: Endpoint? = nil
    private let spec: MySQLSpec
    private let step: StepSpec
    private let events: EngineEventSink
    private let workers: [MySQLWorker]
    private let stop = StopFlag()
    private let stopRequested = StopFlag()

    /// How long a connection may go without an answer before the run fails as stalled.
    static let stallTimeoutNs: Int64 = 10_000_000_000

    init(_ spec: MySQLSpec, step: StepSpec, events: @escaping EngineEventSink) throws {
        guard let target = spec.server.external ?? step.placement.target else {
            throw WireError(.badStep, "mysql load generator without a target")
        }
        try EngineThread.checkPinning(step.placement.cpus(for: step.role))
        self.spec = spec
        self.step = step
        self.events = events
        workers = try (0..<spec.threads).map { index in
            try MySQLWorker(spec: spec, target: target, seed: SplitMix64.mix(spec.seed &+ UInt64(index) &* 0x9E37_79B9))
        }
    }

    func start(atNs: Int64) {
        LoadSupervisor(
            name: "mysql", stepID: step.stepID, workers: workers, stallTimeoutNs: Self.stallTimeoutNs,
            cpus: step.placement.cpus(for: step.role), stop: stop, stopRequested: stopRequested, events: events
        ).start(atNs: atNs, timing: step.timing) { totals in
            let t = totals.tally
            return SideOutcome(
                MySQLClientResult(
                    transactions: t.transactions, latency: HistogramSnapshot(t.histogram), queries: t.counts.queries,
                    rowsRead: t.counts.rowsRead, errors: t.counts.errors, deadlocks: t.counts.deadlocks,
                    reconnects: t.counts.reconnects, load: totals.load))
        }
    }

    func requestStop() {
        stopRequested.raise()
        stop.raise()
    }
}
