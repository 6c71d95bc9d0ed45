import Foundation
import Shared

/// Whether a step's numbers can be taken as findings: `valid` when every check passed, else
/// `suspect` (run.json's `steps[].verdict`, the samples' `verdict` label).
enum Verdict: String, Codable, Sendable {
    case valid
    case suspect

    /// `suspect` if any check failed.
    init(_ checks: [StepCheck]) { self = checks.allSatisfy(\.passed) ? .valid : .suspect }
}

/// One validity check of a step: its name, whether it passed, whether it applied at all (a check
/// that cannot apply passes), one line that says why, and the figures it used. Encoded flat, the
/// figures beside `name` and `passed`: `{"name": "independence", "passed": true, "rho": 0.04, ...}`.
struct StepCheck: Codable, Equatable, Sendable {
    /// The checks' names, as run.json and the tables spell them.
    enum Name: String, CaseIterable, Sendable {
        case generatorHeadroom = "generator-headroom"
        case tooShort = "too-short"
        case arrivals
        case independence
        case steadyState = "steady-state"
        case sampleSize = "sample-size"
        case quietHost = "quiet-host"
        case repeatability

        /// What the check asks, its threshold and the reference it follows, in one line (the report
        /// and `lockstep check --explain` print these; the README has the same lines).
        var explanation: String {
            switch self {
            case .generatorHeadroom:
                return
                    "each generator thread's CPU over the window stays under 90% (Locust warns at 90%; Lancet exists because generators became the bottleneck)"
            case .tooShort: return "the window, or an engine's run to completion, lasts at least 2 s"
            case .arrivals:
                return
                    "open loop: the achieved rate within 10% of the offered, and with --arrivals poisson the send gaps pass Anderson-Darling against an exponential at twice the 1% critical value (Lancet)"
            case .independence:
                return
                    "latencies in send order, one per millisecond, pass Spearman's lag-1 test at p > 1e-10, else at the first lag of 2, 5, 10, 25, ... no more than 10 ms apart and with 100 independent samples left (Lancet's lag rule)"
            case .steadyState:
                return
                    "the per-second rate has no Mann-Kendall trend moving it over 10%, no half-to-half shift over 25%, and no warm-up left by MSER (White 1997)"
            case .sampleSize:
                return
                    "enough latencies for a p99 (700); a percentile q is shown only from 7/(1-q) samples, with its order-statistic 95% interval"
            case .quietHost:
                return
                    "processes outside the step used at most 0.2 CPU on every agent's host during the window; the busiest are named"
            case .repeatability:
                return
                    "a plan cell's headline varies by at most 25% (coefficient of variation) over 3 or more repetitions"
            }
        }
    }

    /// A process named by the quiet-host check: the host it ran on and its CPU in the window.
    struct Process: Codable, Equatable, Sendable {
        var host: String
        var pid: Int
        var command: String
        var cpu_seconds: Double
    }

    var name: String
    var passed: Bool
    /// `false` when the check could not apply to the step (it then passes).
    var applies: Bool
    /// Why it passed or failed, in one line.
    var note: String
    /// The figures the check used (`rho`, `lag`, `busiest_thread_busy`, ...).
    var figures: [String: Double]
    /// quiet-host: the busiest processes that were not part of the step.
    var processes: [Process]?

    init(
        _ name: Name, passed: Bool, applies: Bool = true, note: String, figures: [String: Double] = [:],
        processes: [Process]? = nil
    ) {
        self.name = name.rawValue
        self.passed = passed
        self.applies = applies
        self.note = note
        self.figures = figures
        self.processes = processes
    }

    /// A check that could not apply to the step: passed, with the reason.
    static func notApplicable(_ name: Name, _ why: String) -> StepCheck {
        StepCheck(name, passed: true, applies: false, note: why)
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private static let fixed: Set<String> = ["name", "passed", "applies", "note", "processes"]

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(name, forKey: Key("name"))
        try c.encode(passed, forKey: Key("passed"))
        try c.encode(applies, forKey: Key("applies"))
        try c.encode(note, forKey: Key("note"))
        for (key, value) in figures.sorted(by: { $0.key < $1.key }) where value.isFinite {
            try c.encode(value, forKey: Key(key))
        }
        try c.encodeIfPresent(processes, forKey: Key("processes"))
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        name = try c.decode(String.self, forKey: Key("name"))
        passed = try c.decode(Bool.self, forKey: Key("passed"))
        applies = try c.decodeIfPresent(Bool.self, forKey: Key("applies")) ?? true
        note = try c.decodeIfPresent(String.self, forKey: Key("note")) ?? ""
        processes = try c.decodeIfPresent([Process].self, forKey: Key("processes"))
        var figures: [String: Double] = [:]
        for key in c.allKeys where !Self.fixed.contains(key.stringValue) {
            if let value = try? c.decode(Double.self, forKey: key) { figures[key.stringValue] = value }
        }
        self.figures = figures
    }

    /// `independence (rho 0.31 at lag 1)`: the name and the note, for tables and progress lines.
    var summary: String { "\(name): \(note)" }
}
