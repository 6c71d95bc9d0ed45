import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// A data-plane thread the ``StallWatchdog`` can watch.
protocol StallWatched: AnyObject, Sendable {
    /// A count that moves while the thread makes progress (transactions, bytes).
    var progressCount: UInt64 { get }
    /// Whether the thread is done (then it is not watched).
    var hasExited: Bool { get }
    /// Fails the thread as stalled and wakes its blocked call (shuts its socket down).
    func markStalled()
}

/// Watches data-plane threads from outside the hot path: one whose progress count has not moved for
/// the stall timeout is marked stalled and its socket shut down, which wakes its blocked call.
/// This replaces a receive timeout on the socket, which would arm a kernel timer per blocking call.
struct StallWatchdog: Sendable {
    let flows: [any StallWatched]
    let startNs: Int64
    let stop: StopFlag
    let timeoutNs: Int64

    func run() {
        MonotonicClock.sleepThenSpin(until: startNs, spinNs: 0)
        var last = flows.map { $0.progressCount }
        var lastChange = [Int64](repeating: MonotonicClock.now(), count: flows.count)
        while !stop.isRaised {
            MonotonicClock.sleepThenSpin(until: MonotonicClock.now() + 100_000_000, spinNs: 0)
            let now = MonotonicClock.now()
            for (i, flow) in flows.enumerated() where !flow.hasExited {
                let done = flow.progressCount
                if done != last[i] {
                    last[i] = done
                    lastChange[i] = now
                } else if now - lastChange[i] > timeoutNs {
                    flow.markStalled()
                }
            }
        }
    }
}
