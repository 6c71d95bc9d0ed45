import Foundation

/// A workload whose generator can run open loop: requests leave at a fixed intended rate, each at
/// its intended time, and latency runs from that time (wrk2's rule), so a stalled server shows in the
/// latency of every request it delayed, not only in the few a closed loop happened to have in
/// flight. Closed loop (each connection sends its next request when the last is answered) stays
/// the default and the paper's.
package protocol OpenLoopSpec: WorkloadSpec {
    /// Intended requests (transactions) per second over all of the step's connections, flows or
    /// threads; `nil`: closed loop.
    var rate: Double? { get set }
}

/// How an open loop spaces its intended send times.
package enum Arrivals: String, Codable, Sendable, CaseIterable {
    /// One every `1/rate` (the default; wrk2's pacing).
    case uniform
    /// Exponential gaps with mean `1/rate`, a Poisson process (Lancet's and the open-loop queueing
    /// model's); the arrivals check tests the gaps against it (Anderson-Darling).
    case poisson
}

/// Open-loop rates: limits, labels and how peers split one.
package enum OpenLoop {
    /// The highest rate a step may ask for, per second.
    package static let maxRate = 100_000_000.0
    /// A request sent later than this after its intended time counts as late (`late_requests`).
    package static let lateNs: Int64 = 1_000_000
    /// A rate step whose achieved rate falls short of the offered by more than this fraction
    /// saturated the SUT: a sweep stops there.
    package static let saturationShortfall = 0.05

    /// The problem with `rate`, if any.
    package static func problems(_ rate: Double?) -> [String] {
        guard let rate else { return [] }
        return rate > 0 && rate <= maxRate && rate.isFinite
            ? [] : ["rate must be above 0 and at most \(Int(maxRate))/s, got \(rate)"]
    }

    /// `20000`, `2500.5`.
    package static func text(_ rate: Double) -> String {
        rate == rate.rounded() ? String(Int(rate)) : String(format: "%g", rate)
    }

    /// The `rate` label, when open loop.
    package static func labels(_ rate: Double?) -> [String: String] { rate.map { ["rate": text($0)] } ?? [:] }

    /// A step-name suffix: `-r20000`.
    package static func suffix(_ rate: Double?) -> String { rate.map { "-r\(text($0))" } ?? "" }

    /// A summary suffix: `, open loop at 20000/s`.
    package static func summary(_ rate: Double?) -> String { rate.map { ", open loop at \(text($0))/s" } ?? "" }

    /// A peer's part of `rate` when it drives `units` of `total` connections (flows, threads).
    package static func share(_ rate: Double?, units: Int, of total: Int) -> Double? {
        rate.map { $0 * Double(units) / Double(max(total, 1)) }
    }
}
