/// When a step's load runs, relative to its start instant: a warm-up, then the measurement window.
/// Every workload has the same timing, so it lives in the step's envelope, not in the workload.
package struct StepTiming: Codable, Equatable, Sendable {
    /// Warm-up before the measurement window, nanoseconds.
    package var warmupNs: Int64
    /// Length of the measurement window, nanoseconds.
    package var durationNs: Int64

    package init(warmupNs: Int64 = 1_000_000_000, durationNs: Int64 = 10_000_000_000) {
        self.warmupNs = warmupNs
        self.durationNs = durationNs
    }

    /// From the start instant to the end of the window.
    package var totalNs: Int64 { warmupNs + durationNs }

    /// The longest window or warm-up accepted: a week.
    package static let longestNs: Int64 = 7 * 86_400 * 1_000_000_000

    /// One line per problem, empty when valid.
    package func problems() -> [String] {
        var out: [String] = []
        if durationNs <= 0 { out.append("duration must be positive") }
        if warmupNs < 0 { out.append("warm-up must not be negative") }
        // Deadlines add these to clock readings: lengths near Int64's end would overflow them.
        if durationNs > Self.longestNs { out.append("duration must be at most 7 days") }
        if warmupNs > Self.longestNs { out.append("warm-up must be at most 7 days") }
        return out
    }
}
