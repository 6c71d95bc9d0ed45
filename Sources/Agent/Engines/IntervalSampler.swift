import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// Emits one ``IntervalSample`` per second from the start of a step, from cumulative counters
/// the data-plane threads publish, with this machine's CPU use over the second (one `/proc/stat`
/// read per second, on this thread). Runs on its own thread; never touches the hot path.
struct IntervalSampler: Sendable {
    let stepID: String
    let startNs: Int64
    let endNs: Int64
    let stop: StopFlag
    let events: EngineEventSink
    /// Cumulative counters right now.
    let read: @Sendable () -> Counters
    /// Cumulative counters of an engine.
    struct Counters: Sendable {
        var transactions: UInt64 = 0
        var lost: UInt64 = 0
        var bytes: UInt64?
        /// The latencies of the `transactions`, added up, nanoseconds (where the engine times them).
        var latencyNs: UInt64?

        /// Adds another thread's counts.
        mutating func add(_ other: Counters) {
            transactions &+= other.transactions
            lost &+= other.lost
            if let b = other.bytes { bytes = (bytes ?? 0) &+ b }
            if let l = other.latencyNs { latencyNs = (latencyNs ?? 0) &+ l }
        }
    }
    static let intervalNs: Int64 = 1_000_000_000

    func run() {
        var index = 0
        var previous = Counters()
        var previousT = MonotonicClock.sleepThenSpin(until: startNs, spinNs: 0)
        var previousCPU = ProcStatReader.read()
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        while !stop.isRaised {
            let due = min(startNs + Int64(index + 1) * Self.intervalNs, endNs)
            // Sleep in short slices so a stop is noticed quickly.
            while MonotonicClock.now() < due && !stop.isRaised {
                MonotonicClock.sleepThenSpin(until: min(due, MonotonicClock.now() + 100_000_000), spinNs: 0)
            }
            let t = MonotonicClock.now()
            let current = read()
            let cpu = ProcStatReader.read()
            var sample = IntervalSample(
                stepID: stepID, index: index, tNs: t, lengthNs: t - previousT,
                transactions: current.transactions &- previous.transactions, lost: current.lost &- previous.lost,
                bytes: current.bytes.map { $0 &- (previous.bytes ?? 0) })
            sample.latencyNs = current.latencyNs.map { $0 &- (previous.latencyNs ?? 0) }
            if let a = previousCPU, let b = cpu {
                sample.cpuPercent =
                    CPUUsage.between(a, b, ticksPerSecond: ticks, wallSeconds: Double(t - previousT) / 1e9)
                    .utilizationPercent
            }
            events(.sample(sample))
            previous = current
            previousT = t
            previousCPU = cpu
            index += 1
            if t >= endNs { return }
        }
    }
}
