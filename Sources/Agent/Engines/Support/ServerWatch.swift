import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// The SUT side of a server workload while a step runs: reports `started` at the start instant,
/// polls the server every 20 ms and fails the step if it ends; on stop, reports `finished` with
/// the typed outcome read at that moment (nothing, once a failure was reported).
final class ServerWatch: @unchecked Sendable {
    private let name: String
    private let server: (any ManagedServer)?
    private let events: EngineEventSink
    private let stop = StopFlag()
    /// Raised once the server's death was reported: then no `finished` follows.
    private let failed = StopFlag()
    private var monitor: EngineThread?
    private var startedNs: Int64 = 0

    /// Watches `server` (`nil` for an external one, which is not watched); `name` prefixes thread names.
    init(name: String, server: (any ManagedServer)?, events: @escaping EngineEventSink) {
        self.name = name
        self.server = server
        self.events = events
    }

    func start(atNs: Int64) {
        monitor = EngineThread(name: "\(name)-monitor") { [self] in
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

    /// Ends the watch; `outcome` is read on a thread of its own once the monitor has stopped.
    func requestStop(outcome: @escaping @Sendable () -> SideOutcome) {
        guard !stop.isRaised else { return }
        stop.raise()
        _ = EngineThread(name: "\(name)-stop") { [self] in
            monitor?.join()
            guard !failed.isRaised else { return }
            let stoppedNs = MonotonicClock.now()
            events(
                .finished(
                    SideResult(
                        startedNs: startedNs, stoppedNs: stoppedNs, windowStartNs: startedNs, windowEndNs: stoppedNs,
                        outcome: outcome())))
        }
    }
}
