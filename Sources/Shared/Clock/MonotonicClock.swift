import CLockstepSys

#if canImport(Glibc)
    import Glibc
#endif

/// The clock every cross-host timestamp is read from: `CLOCK_MONOTONIC`, in nanoseconds. Never
/// wall time; the epoch is the host's (or its time namespace's), so offsets are always estimated.
package enum MonotonicClock {
    /// Now, in nanoseconds.
    @inline(__always)
    package static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }

    /// How long before a synchronized start the one starting thread stops sleeping and spins. The
    /// spinning thread's timer slack is set to 1 ns first, so its sleep ends within microseconds; the
    /// spin covers a late wake-up of up to this much (a VM's vCPU descheduled during the sleep: with
    /// 100 us, a few steps in 50 started 0.4-0.5 ms apart). Only one thread per agent spins.
    package static let startSpinNs: Int64 = 300_000

    /// Whether this process may run its starting threads at SCHED_FIFO (root or CAP_SYS_NICE).
    package static var realtimeStarts: Bool {
        guard lockstep_realtime(1) == 0 else { return false }
        _ = lockstep_realtime(0)
        return true
    }

    /// Sleeps until `deadline`, then spins the last `spinNs` so the wake-up is within microseconds.
    /// A spinning (starting) thread runs at SCHED_FIFO for that stretch where the process has the
    /// right (``realtimeStarts``), so nothing of lower priority delays its wake-up. Returns the
    /// instant it really returned.
    @discardableResult
    package static func sleepThenSpin(until deadline: Int64, spinNs: Int64 = startSpinNs) -> Int64 {
        let realtime = spinNs > 0 && lockstep_realtime(1) == 0
        defer { if realtime { _ = lockstep_realtime(0) } }
        if spinNs > 0 { _ = lockstep_set_timer_slack_ns(1) }
        var now = now()
        while deadline - now > spinNs {
            let sleepFor = deadline - now - spinNs
            var req = timespec(tv_sec: Int(sleepFor / 1_000_000_000), tv_nsec: Int(sleepFor % 1_000_000_000))
            nanosleep(&req, nil)
            now = Self.now()
        }
        while now < deadline { now = Self.now() }
        return now
    }
}
