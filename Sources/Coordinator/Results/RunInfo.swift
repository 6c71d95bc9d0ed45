import Foundation
import Shared

/// How a run or a step stands in `run.json`.
enum RunStatus: String, Codable, Sendable {
    case running
    case complete
    case failed
}

/// `run.json`: what was run, on which agents, with which clocks, and how it ended.
struct RunInfo: Codable {
    struct Agent: Codable {
        var role: Role
        var name: String
        var address: String
        var version: String
        var host: HostFacts
        var clock: Clock?
    }

    /// An agent's clock relative to the coordinator's: agent = coordinator + offset.
    struct Clock: Codable {
        var offset_ns: Int64
        var offset_error_ns: Int64
        var round_trip_ns: Int64
        var offset_after_ns: Int64?
        var offset_after_error_ns: Int64?
        /// Drift over the run: a weighted fit over every sync's best exchanges where there was more
        /// than one sync (`drift_method: fit`, with its standard error), else the slope between two.
        var drift_ppm: Double?
        var drift_ppm_error: Double?
        var drift_method: String?
        /// How the probes travelled (`udp-kernel-timestamps`, `udp`, `control-channel`).
        var method: String?
        /// Where each exchange's t0 (coordinator send), t1 (agent receive), t2 (agent send) and t3
        /// (coordinator receive) came from.
        var stamps: ClockStamps?
    }

    struct Step: Codable {
        var id: String
        var status: RunStatus
        var window_start_ns: Int64?
        var window_end_ns: Int64?
        var start_skew_ns: Int64?
        var clock_offset_error_ns: Int64?
        var error: String?
        /// A plan's cell and repetition of the step.
        var cell: String?
        var repetition: Int?
        /// The step's headline metric (the stopping rule's input when a plan is resumed).
        var headline: Double?
        /// An external engine's version and exact command line (fio), as the agent ran it.
        var engine: String?
        /// `valid` or `suspect` (``StepChecks``); `nil` in run.json files of older versions.
        var verdict: Verdict?
        /// Every validity check with its figures.
        var checks: [StepCheck]?
        /// `--retry-suspect`: the earlier attempts of this step that were suspect, each with its checks.
        var suspect_attempts: [Attempt]?
    }

    /// A suspect attempt of a step that was run again (`--retry-suspect`).
    struct Attempt: Codable {
        var headline: Double?
        var checks: [StepCheck]
        /// What the retry changed (`warm-up 1s -> 3s`).
        var adjusted: String?
    }

    /// One planned step: its id and its full encoded spec (workload, timing, placement; secrets redacted).
    struct PlannedEntry: Codable, Equatable {
        var id: String
        var spec: PlannedStep
    }

    var run_id: String
    var command: String
    var lockstep_version = LockstepVersion.current
    var started_at: String
    var finished_at: String?
    var status: RunStatus
    var error: String?
    var parameters: [String: String]
    var coordinator: HostFacts
    var agents: [Agent] = []
    var steps: [Step] = []
    /// When the run was continued with `--resume`, one entry per continuation.
    var resumed_at: [String]?
    /// Every step of the plan, encoded; `--resume` compares it field by field. `nil` in run.json
    /// files of older versions.
    var plan: [PlannedEntry]?
    /// What each deployment mode set up on the SUT's host (commands, rules, image, container, cpuset).
    var modes: [String: ModeSetup]?
    /// A plan's repetition rule, seed and order (`plan` then holds its cells); `--resume` compares it.
    var repetition: RepetitionRule?
    /// The coordinator's monotonic clock and the wall clock read together when the run began: turns
    /// the steps' windows (monotonic) into wall-clock times for exports. `nil` in older run.json files.
    var clock_origin: ClockOrigin?
    /// Hosts whose facts (kernel, CPUs, sysctls, versions) differ from those recorded before a resume,
    /// and, for a plan, `cell C: host H` where a host's fingerprint changed between a cell's repetitions.
    var provenance_changed: [String]?
    /// Agents that went away (restarted, crashed) and were connected afresh during the run.
    var reconnects: Int?
    /// Steps that failed because an agent went away during them and ran again.
    var steps_redone: Int?
}

extension RunInfo {
    /// A monotonic reading and the wall clock at the same moment.
    struct ClockOrigin: Codable, Equatable {
        var monotonic_ns: Int64
        /// Nanoseconds since the Unix epoch.
        var unix_ns: Int64

        static func now() -> ClockOrigin {
            ClockOrigin(monotonic_ns: MonotonicClock.now(), unix_ns: Int64(Date().timeIntervalSince1970 * 1e9))
        }

        /// The wall-clock instant of a monotonic reading of the same run.
        func date(_ monotonicNs: Int64) -> Date {
            Date(timeIntervalSince1970: Double(unix_ns + (monotonicNs - monotonic_ns)) / 1e9)
        }

        /// A window on the monotonic clock as wall-clock times; `nil` when either end is missing.
        func interval(_ start: Int64?, _ end: Int64?) -> DateInterval? {
            guard let start, let end, end >= start else { return nil }
            return DateInterval(start: date(start), end: date(end))
        }
    }
}

extension RunInfo.Clock {
    init(_ track: ClockTrack) {
        offset_ns = track.before.offsetNs
        offset_error_ns = track.before.errorNs
        round_trip_ns = track.before.roundTripNs
        offset_after_ns = track.after?.offsetNs
        offset_after_error_ns = track.after?.errorNs
        drift_ppm = track.driftPPM
        let fit = track.driftFit
        drift_ppm_error = fit?.standardErrorPPM
        drift_method = fit != nil ? "fit" : (track.after != nil ? "two-point" : nil)
        method = track.after?.method ?? track.before.method
        stamps = track.after?.stamps ?? track.before.stamps
    }
}
