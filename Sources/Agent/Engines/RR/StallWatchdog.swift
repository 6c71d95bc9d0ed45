import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// Watches TCP flows from outside the hot path: a flow whose transaction count has not moved for
/// the stall timeout is marked stalled and its socket shut down, which wakes its blocked `recv`.
/// This replaces a receive timeout on the socket, which would arm a kernel timer per transaction.
struct StallWatchdog: Sendable {
    let flows: [RRFlow]
    let startNs: Int64
    let stop: StopFlag
    let timeoutNs: Int64

    func run() {
        MonotonicClock.sleepThenSpin(until: startNs, spinNs: 0)
        var last = flows.map { $0.done.current }
        var lastChange = [Int64](repeating: MonotonicClock.now(), count: flows.count)
        while !stop.isRaised {
            MonotonicClock.sleepThenSpin(until: MonotonicClock.now() + 100_000_000, spinNs: 0)
            let now = MonotonicClock.now()
            for (i, flow) in flows.enumerated() where !flow.exited.isRaised {
                let done = flow.done.current
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
