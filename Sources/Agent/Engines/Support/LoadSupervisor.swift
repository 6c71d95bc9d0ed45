import Histogram
import Shared

/// A load generator's worker thread, as ``LoadSupervisor`` runs it and merges its results.
protocol LoadWorker: StallWatched {
    /// Latency of what completed inside the window.
    var histogram: Histogram<UInt64> { get }
    /// What completed inside the window (transactions, operations).
    var windowCompletions: UInt64 { get }
    /// Completions so far, warm-up included (for interval samples).
    var completedCount: UInt64 { get }
    /// The workload's own counters; the supervisor sums them over the workers.
    var counters: [String: Double] { get }
    /// The thread's CPU time over the window, nanoseconds.
    var cpuNs: Int64 { get }
    /// When the thread stopped.
    var stoppedNs: Int64 { get }
    /// Why it failed, if it did.
    var error: WireError? { get }
    /// Runs the thread's load (called on the worker's own thread).
    func run(startNs: Int64, windowStart: Int64, windowEnd: Int64, index: Int, stop: StopFlag)
}

/// Runs a load generator's worker threads from the start instant together with what every
/// generator runs beside them: the `started` report, a ``StallWatchdog`` over the workers, and an
/// ``IntervalSampler``. When the workers have all returned it raises `stop`, joins its companions
/// and reports the merged result (histograms, summed counters, CPU) or the first worker's failure
/// (unless the stop was requested), all on a supervisor thread of its own.
struct LoadSupervisor: Sendable {
    /// Prefix of the thread names (`redis` gives redis-worker, redis-watchdog, ...).
    let name: String
    let stepID: String
    let workers: [any LoadWorker]
    /// How long a worker may make no progress before it is failed as stalled.
    let stallTimeoutNs: Int64
    /// Raised when the workers should end (by a failing worker, or the supervisor when they have).
    let stop: StopFlag
    /// Raised by the engine's `requestStop`: then a worker's failure is not reported.
    let stopRequested: StopFlag
    let events: EngineEventSink

    /// Starts the workers at `atNs`; the window runs `warmupNs` later for `durationNs`.
    /// `extraCounters` adds generator-wide counters to the result.
    func start(
        atNs: Int64, warmupNs: Int64, durationNs: Int64,
        extraCounters: @escaping @Sendable () -> [String: Double] = { [:] }
    ) {
        let windowStart = atNs + warmupNs
        let windowEnd = windowStart + durationNs
        _ = EngineThread(name: "\(name)-supervisor") { [self] in
            let threads = workers.enumerated().map { index, worker in
                EngineThread(name: "\(name)-worker") {
                    worker.run(startNs: atNs, windowStart: windowStart, windowEnd: windowEnd, index: index, stop: stop)
                }
            }
            let started = MonotonicClock.sleepThenSpin(until: atNs, spinNs: 0)
            events(.started(started))
            let watchdog = StallWatchdog(flows: workers, startNs: atNs, stop: stop, timeoutNs: stallTimeoutNs)
            let watchdogThread = EngineThread(name: "\(name)-watchdog") { watchdog.run() }
            let sampler = IntervalSampler(stepID: stepID, startNs: atNs, endNs: windowEnd, stop: stop, events: events) {
                [workers] in IntervalSampler.Counters(transactions: workers.reduce(0) { $0 &+ $1.completedCount })
            }
            let samplerThread = EngineThread(name: "\(name)-sampler") { sampler.run() }
            threads.forEach { $0.join() }
            stop.raise()
            samplerThread.join()
            watchdogThread.join()
            if !stopRequested.isRaised, let failure = workers.lazy.compactMap(\.error).first {
                events(.failed(failure))
                return
            }
            events(
                .finished(
                    result(startedNs: started, windowStart: windowStart, windowEnd: windowEnd, extra: extraCounters())))
        }
    }

    private func result(startedNs: Int64, windowStart: Int64, windowEnd: Int64, extra: [String: Double])
        -> SideResult
    {
        var merged = HistogramSnapshot.makeLatencyHistogram()
        var totals = extra
        var cpuNs: Int64 = 0
        var stoppedNs = startedNs
        var completions: UInt64 = 0
        for worker in workers {
            merged.add(worker.histogram)
            completions += worker.windowCompletions
            for (key, value) in worker.counters { totals[key, default: 0] += value }
            cpuNs += worker.cpuNs
            stoppedNs = max(stoppedNs, worker.stoppedNs)
        }
        totals["client_cpu_seconds"] = Double(cpuNs) / 1e9
        totals["threads"] = Double(workers.count)
        return SideResult(
            startedNs: startedNs, stoppedNs: stoppedNs, windowStartNs: windowStart,
            windowEndNs: min(windowEnd, stoppedNs), transactions: completions, lost: 0,
            latency: HistogramSnapshot(merged), counters: totals)
    }
}
