import CLockstepSys
import Foundation
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
    /// Nanoseconds between two intended times (their mean, with Poisson arrivals).
    let intervalNs: Double
    private let firstNs: Int64
    private var issued: Int64 = 0
    /// Poisson arrivals: the gaps' generator and the next intended time, nanoseconds after `firstNs`.
    private var poisson: SplitMix64?
    private var offsetNs: Double = 0
    /// Whether this thread's timer slack is down to 1 ns (per thread: set on the first wait).
    private var slackSet = false

    /// The pacer of a thread that sends `rate` per second, the `index`th of `count` threads; `nil`
    /// without a rate (closed loop).
    /// With `arrivals: .poisson` the gaps are exponential (seeded by `seed`).
    init?(
        rate: Double?, startNs: Int64, index: Int = 0, count: Int = 1, arrivals: Arrivals? = nil, seed: UInt64 = 1
    ) {
        guard let rate, rate > 0 else { return nil }
        intervalNs = 1e9 / rate
        firstNs = startNs + Int64(intervalNs * Double(index) / Double(max(count, 1)))
        if arrivals == .poisson { poisson = SplitMix64(seed: seed) }
    }

    /// The next request's intended time.
    var nextNs: Int64 {
        poisson == nil ? firstNs + Int64((Double(issued) * intervalNs).rounded()) : firstNs + Int64(offsetNs)
    }

    /// The next request is being sent: the one after it is next.
    mutating func advance() {
        issued += 1
        if poisson != nil {
            // Inverse transform of a uniform in (0, 1]: an exponential gap of mean `intervalNs`.
            let u = (Double(poisson!.next() >> 11) + 1) / 9_007_199_254_740_992
            offsetNs += -log(u) * intervalNs
        }
    }

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
