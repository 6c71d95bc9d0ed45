import CLockstepSys
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// The intended send times of one generator thread's share of an open-loop rate: one every
/// `intervalNs` from the start, offset by the thread's place among its siblings so that they do not
/// send together. Latency is measured from these times, not from when a request could leave (wrk2's
/// rule against coordinated omission); a request that leaves more than ``OpenLoop/lateNs`` after its
/// time is late.
struct OpenLoopPacer {
    /// Nanoseconds between two intended times.
    let intervalNs: Double
    private let firstNs: Int64
    private var issued: Int64 = 0
    /// Whether this thread's timer slack is down to 1 ns (per thread: set on the first wait).
    private var slackSet = false

    /// The pacer of a thread that sends `rate` per second, the `index`th of `count` threads; `nil`
    /// without a rate (closed loop).
    init?(rate: Double?, startNs: Int64, index: Int = 0, count: Int = 1) {
        guard let rate, rate > 0 else { return nil }
        intervalNs = 1e9 / rate
        firstNs = startNs + Int64(intervalNs * Double(index) / Double(max(count, 1)))
    }

    /// The next request's intended time.
    var nextNs: Int64 { firstNs + Int64((Double(issued) * intervalNs).rounded()) }

    /// The next request is being sent: the one after it is next.
    mutating func advance() { issued += 1 }

    /// For a thread that blocks on each request: sleeps until the next intended time (or `stop`),
    /// takes it and returns it; `nil` when stopped.
    mutating func awaitNext(stop: StopFlag) -> Int64? {
        let due = nextNs
        if !slackSet {
            _ = lockstep_set_timer_slack_ns(1)
            slackSet = true
        }
        var now = MonotonicClock.now()
        while now < due {
            if stop.isRaised { return nil }
            let sleepNs = min(due - now, 100_000_000)
            var request = timespec(tv_sec: Int(sleepNs / 1_000_000_000), tv_nsec: Int(sleepNs % 1_000_000_000))
            nanosleep(&request, nil)
            now = MonotonicClock.now()
        }
        advance()
        return due
    }

    /// Whether a request intended at `intendedNs` and sent at `sentNs` is late.
    static func isLate(intendedNs: Int64, sentNs: Int64) -> Bool { sentNs - intendedNs > OpenLoop.lateNs }
}
