import Shared

/// What a generator's workers measured inside the window, merged by ``LoadSupervisor`` once they
/// have returned. Each workload has its own (histograms, typed counters); nothing is named twice.
protocol LoadTally: Sendable {
    /// Nothing measured yet.
    init()
    /// Adds another worker's tally (histograms merge exactly).
    mutating func add(_ other: Self)
}

/// A load generator's worker thread, as ``LoadSupervisor`` runs it and merges its results.
protocol LoadWorker: StallWatched {
    associatedtype Tally: LoadTally
    /// What the worker measured inside the window; read after its thread returned.
    var tally: Tally { get }
    /// Cumulative counts so far, warm-up included, for interval samples; read from the sampler's thread.
    var sampleCounters: IntervalSampler.Counters { get }
    /// The thread's CPU time over the window, nanoseconds.
    var cpuNs: Int64 { get }
    /// When the thread stopped.
    var stoppedNs: Int64 { get }
    /// Why it failed, if it did.
    var error: WireError? { get }
    /// Runs the thread's load (called on the worker's own thread); worker 0 spins into the start.
    func run(startNs: Int64, windowStart: Int64, windowEnd: Int64, index: Int, stop: StopFlag)
    /// Open loop: the window's late requests (``LoadThreads/lateRequests``); `nil` in closed loop.
    var lateRequests: UInt64? { get }
    /// The thread's latencies in send order and send gaps (`nil`: it keeps none); read after it returned.
    var recorder: LatencySeriesRecorder? { get }
}

extension LoadWorker {
    /// Closed loop unless the worker says otherwise.
    var lateRequests: UInt64? { nil }
    var recorder: LatencySeriesRecorder? { nil }
}

/// What the supervisor hands the engine when every worker has returned without failing.
struct LoadTotals<Tally: LoadTally>: Sendable {
    var startedNs: Int64
    var stoppedNs: Int64
    var windowStartNs: Int64
    var windowEndNs: Int64
    /// Every worker's tally, merged.
    var tally: Tally
    /// The workers' count and CPU.
    var load: LoadThreads
}

/// Runs a load generator's worker threads from the start instant together with what every
/// generator runs beside them: the `started` report, a ``StallWatchdog`` over the workers, and an
/// ``IntervalSampler``. When the workers have all returned it raises `stop`, joins its companions
/// and reports the merged result (tallies, CPU) or the first worker's failure (unless the stop was
/// requested), all on a supervisor thread of its own. Every engine that generates load (RR flows,
/// bulk streams, Redis and MySQL clients) runs on it.
struct LoadSupervisor<Worker: LoadWorker>: Sendable {
    /// Prefix of the thread names (`redis` gives redis-worker, redis-watchdog, ...).
    let name: String
    let stepID: String
    let workers: [Worker]
    /// How long a worker may make no progress before it is failed as stalled; `nil`: no watchdog
    /// (UDP RR flows time out by themselves).
    let stallTimeoutNs: Int64?
    /// CPUs the worker threads are pinned to (the placement's, for this agent's role).
    let cpus: [Int]?
    /// Raised when the workers should end (by a failing worker, or the supervisor when they have).
    let stop: StopFlag
    /// Raised by the engine's `requestStop`: then a worker's failure is not reported.
    let stopRequested: StopFlag
    let events: EngineEventSink
    /// The start as reported: by default the supervisor's own wake-up at the instant; RR flows and
    /// bulk streams report when their spinning first worker really began.
    var measureStart: @Sendable (Int64) -> Int64 = { MonotonicClock.sleepThenSpin(until: $0, spinNs: 0) }

    /// Starts the workers at `atNs`; the window runs after the warm-up. `result` turns the merged
    /// totals into the engine's typed outcome; `cleanup` runs last, whatever happened.
    func start(
        atNs: Int64, timing: StepTiming,
        result: @escaping @Sendable (LoadTotals<Worker.Tally>) -> SideOutcome,
        cleanup: @escaping @Sendable () -> Void = {}
    ) {
        let windowStart = atNs + timing.warmupNs
        let windowEnd = windowStart + timing.durationNs
        _ = EngineThread(name: "\(name)-supervisor") { [self] in
            defer { cleanup() }
            let threads = workers.enumerated().map { index, worker in
                EngineThread(name: "\(name)-worker", cpus: cpus) {
                    worker.run(startNs: atNs, windowStart: windowStart, windowEnd: windowEnd, index: index, stop: stop)
                }
            }
            let started = measureStart(atNs)
            events(.started(started))
            let watchdog = stallTimeoutNs.map {
                StallWatchdog(flows: workers, startNs: atNs, stop: stop, timeoutNs: $0)
            }
            let watchdogThread = watchdog.map { w in EngineThread(name: "\(name)-watchdog") { w.run() } }
            let sampler = IntervalSampler(stepID: stepID, startNs: atNs, endNs: windowEnd, stop: stop, events: events) {
                [workers] in
                workers.reduce(into: IntervalSampler.Counters()) { $0.add($1.sampleCounters) }
            }
            let samplerThread = EngineThread(name: "\(name)-sampler") { sampler.run() }
            threads.forEach { $0.join() }
            stop.raise()
            samplerThread.join()
            watchdogThread?.join()
            if !stopRequested.isRaised, let failure = workers.lazy.compactMap(\.error).first {
                events(.failed(failure))
                return
            }
            let totals = merge(startedNs: started, windowStart: windowStart, windowEnd: windowEnd)
            events(
                .finished(
                    SideResult(
                        startedNs: totals.startedNs, stoppedNs: totals.stoppedNs, windowStartNs: totals.windowStartNs,
                        windowEndNs: totals.windowEndNs, outcome: result(totals))))
        }
    }

    private func merge(startedNs: Int64, windowStart: Int64, windowEnd: Int64) -> LoadTotals<Worker.Tally> {
        var tally = Worker.Tally()
        var cpuNs: Int64 = 0
        var stoppedNs = startedNs
        var late: UInt64?
        for worker in workers {
            tally.add(worker.tally)
            cpuNs += worker.cpuNs
            stoppedNs = max(stoppedNs, worker.stoppedNs)
            if let count = worker.lateRequests { late = (late ?? 0) + count }
        }
        return LoadTotals(
            startedNs: startedNs, stoppedNs: stoppedNs, windowStartNs: windowStart,
            windowEndNs: max(windowStart, min(windowEnd, stoppedNs)), tally: tally,
            load: LoadThreads(
                threads: workers.count, cpuSeconds: Double(cpuNs) / 1e9, lateRequests: late,
                threadCPUSeconds: workers.map { Double($0.cpuNs) / 1e9 },
                latencySeries: workers.first?.recorder?.series,
                sendGapsUs: late == nil ? nil : workers.first?.recorder?.sendGaps,
                threadCPUs: workers.allSatisfy { $0.recorder != nil } ? workers.map { $0.recorder!.cpus } : nil))
    }
}
