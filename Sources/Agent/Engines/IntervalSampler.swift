import Shared

/// Emits one ``IntervalSample`` per second from the start of a step, from cumulative counters
/// the data-plane threads publish. Runs on its own thread; never touches the hot path.
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

        /// Adds another thread's counts.
        mutating func add(_ other: Counters) {
            transactions &+= other.transactions
            lost &+= other.lost
            if let b = other.bytes { bytes = (bytes ?? 0) &+ b }
        }
    }
    static let intervalNs: Int64 = 1_000_000_000

    func run() {
        var index = 0
        var previous = Counters()
        var previousT = MonotonicClock.sleepThenSpin(until: startNs, spinNs: 0)
        while !stop.isRaised {
            let due = min(startNs + Int64(index + 1) * Self.intervalNs, endNs)
            // Sleep in short slices so a stop is noticed quickly.
            while MonotonicClock.now() < due && !stop.isRaised {
                MonotonicClock.sleepThenSpin(until: min(due, MonotonicClock.now() + 100_000_000), spinNs: 0)
            }
            let t = MonotonicClock.now()
            let current = read()
            events(
                .sample(
                    IntervalSample(
                        stepID: stepID, index: index, tNs: t, lengthNs: t - previousT,
                        transactions: current.transactions &- previous.transactions,
                        lost: current.lost &- previous.lost,
                        bytes: current.bytes.map { $0 &- (previous.bytes ?? 0) })))
            previous = current
            previousT = t
            index += 1
            if t >= endNs { return }
        }
    }
}
