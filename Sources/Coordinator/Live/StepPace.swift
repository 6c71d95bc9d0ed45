import Shared

/// The time a run has left, from the steps it has measured: until a step has finished, the running
/// step's expected length (warm-up, window and set-up) left plus the estimate for the rest; after,
/// the measured mean step time left of the running step plus that mean for each step still expected.
struct StepPace: Sendable, Equatable {
    private var measured: [Int64] = []
    private var begunNs: Int64?
    private var lengthNs: Int64 = 0
    private var estimateNs: Int64 = 0
    private var stepsLeft = 0

    /// A step began: `lengthNs` expected for it, `remainingNs` for the rest by the estimate,
    /// `done` steps finished of `total` (`12` or `12-40`: the lower bound counts).
    mutating func began(lengthNs: Int64, remainingNs: Int64, done: Int, total: String, at now: Int64) {
        begunNs = now
        self.lengthNs = lengthNs
        estimateNs = remainingNs
        let expected = Int(total.split(separator: "-").first ?? "") ?? (done + 1)
        stepsLeft = max(expected - done - 1, 0)
    }

    /// The running step finished.
    mutating func finished(at now: Int64) {
        if let begunNs { measured.append(now - begunNs) }
        begunNs = nil
    }

    /// The run ended.
    mutating func ended() {
        begunNs = nil
        stepsLeft = 0
        estimateNs = 0
        lengthNs = 0
    }

    /// Nanoseconds left at `now`; `nil` when no step runs.
    func etaNs(at now: Int64) -> Int64? {
        guard let begunNs else { return nil }
        let elapsed = now - begunNs
        guard !measured.isEmpty else { return max(lengthNs - elapsed, 0) + estimateNs }
        let mean = measured.reduce(0, +) / Int64(measured.count)
        return max(mean - elapsed, 0) + Int64(stepsLeft) * mean
    }

    /// How many steps have been measured.
    var measuredSteps: Int { measured.count }
}
