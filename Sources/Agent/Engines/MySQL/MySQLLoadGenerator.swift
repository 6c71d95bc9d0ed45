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
        LoadSupervisor(
            name: "mysql", stepID: stepID, workers: workers, stallTimeoutNs: Self.stallTimeoutNs, stop: stop,
            stopRequested: stopRequested, events: events
        ).start(atNs: atNs, warmupNs: spec.warmupNs, durationNs: spec.durationNs)
    }

    func requestStop() {
        stopRequested.raise()
        stop.raise()
    }
}
