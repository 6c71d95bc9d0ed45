import Shared

/// Runs a load generator's worker threads from the start instant together with what every
/// generator runs beside them: the `started` report, a ``StallWatchdog`` over the workers, and an
/// ``IntervalSampler``. When the workers have all returned it raises `stop`, joins its companions
/// and calls `finish` with the start instant, all on a supervisor thread of its own.
struct LoadSupervisor: Sendable {
    /// Prefix of the thread names (`redis` gives redis-worker, redis-watchdog, ...).
    let name: String
    let stepID: String
    /// The workers the watchdog watches.
    let flows: [any StallWatched]
    /// How long a worker may make no progress before it is failed as stalled.
    let stallTimeoutNs: Int64
    let stop: StopFlag
    let events: EngineEventSink

    /// Starts one thread per flow running `work(index)`; samples `transactions()` every second
    /// until `windowEnd`; `finish(startedNs)` once everything has ended.
    func start(
        atNs: Int64, windowEnd: Int64, transactions: @escaping @Sendable () -> UInt64,
        work: @escaping @Sendable (Int) -> Void, finish: @escaping @Sendable (Int64) -> Void
    ) {
        _ = EngineThread(name: "\(name)-supervisor") { [self] in
            let threads = flows.indices.map { index in EngineThread(name: "\(name)-worker") { work(index) } }
            let started = MonotonicClock.sleepThenSpin(until: atNs, spinNs: 0)
            events(.started(started))
            let watchdog = StallWatchdog(flows: flows, startNs: atNs, stop: stop, timeoutNs: stallTimeoutNs)
            let watchdogThread = EngineThread(name: "\(name)-watchdog") { watchdog.run() }
            let sampler = IntervalSampler(stepID: stepID, startNs: atNs, endNs: windowEnd, stop: stop, events: events) {
                IntervalSampler.Counters(transactions: transactions())
            }
            let samplerThread = EngineThread(name: "\(name)-sampler") { sampler.run() }
            threads.forEach { $0.join() }
            stop.raise()
            samplerThread.join()
            watchdogThread.join()
            finish(started)
        }
    }
}
