import Foundation
import Shared

/// A step's verdict: its checks computed from what it recorded (``StepChecks``), the cell's
/// repeatability, what `--retry-suspect` changes before running a suspect step again, and the line
/// a saturated open-loop step prints.
extension BenchmarkRun {
    /// The step's evidence and checks; `repeatability` over the cell's recorded headlines and this one.
    func judge(_ outcome: StepOutcome, _ scheduled: ScheduledStep, _ state: RunState) -> (
        evidence: StepEvidence, checks: [StepCheck]
    ) {
        let samples = outcome.samples(runID: state.log.runID)
        let evidence = StepEvidence(outcome, samples: samples)
        var checks = StepChecks.all(evidence)
        if let cell = scheduled.cell {
            let earlier = state.info.steps.filter { $0.cell == cell && $0.status == .complete }.compactMap(\.headline)
            checks.append(StepChecks.repeatability(earlier + [outcome.headline(in: samples)].compactMap { $0 }))
        }
        return (evidence, checks)
    }

    /// The cell's earlier steps take the newest repeatability check (it covers all repetitions so far).
    func updateRepeatability(cell: String?, with checks: [StepCheck], _ state: inout RunState) {
        guard let cell, let latest = checks.first(where: { $0.name == StepCheck.Name.repeatability.rawValue }) else {
            return
        }
        for i in state.info.steps.indices
        where state.info.steps[i].cell == cell && state.info.steps[i].status == .complete {
            guard var own = state.info.steps[i].checks else { continue }
            own.removeAll { $0.name == latest.name }
            own.append(latest)
            state.info.steps[i].checks = own
            state.info.steps[i].verdict = Verdict(own)
        }
    }

    /// The step as it should run again after a suspect attempt, and what changed; `nil` when no
    /// change can help (a busy host, a generator at its limit: the user must act).
    static func retry(_ scheduled: ScheduledStep, after checks: [StepCheck]) -> (ScheduledStep, String)? {
        var next = scheduled
        var changes: [String] = []
        let failed = Dictionary(checks.filter { !$0.passed }.map { ($0.name, $0) }) { a, _ in a }
        var timing = next.planned.timing
        if let steady = failed[StepCheck.Name.steadyState.rawValue] {
            let needed = Int64(((steady.figures["warmup_needed_s"] ?? 0) * 1e9).rounded())
            let warmup = max(needed, timing.warmupNs * 2, 1_000_000_000)
            changes.append("warm-up \(seconds(timing.warmupNs)) -> \(seconds(warmup))")
            timing.warmupNs = warmup
        }
        let longer = [StepCheck.Name.tooShort, .sampleSize, .independence].contains { failed[$0.rawValue] != nil }
        if longer && scheduled.planned.workload.spec.completionBudgetNs == nil {
            let window = max(timing.durationNs * 2, Int64(StepChecks.shortestWindowSeconds * 1e9))
            changes.append("window \(seconds(timing.durationNs)) -> \(seconds(window))")
            timing.durationNs = window
        }
        guard !changes.isEmpty else { return nil }
        next.planned.timing = timing
        return (next, changes.joined(separator: ", "))
    }

    /// Why an open-loop step fell short of its offered rate: the generator, the SUT, or neither.
    static func shortfallCause(_ outcome: StepOutcome) -> String {
        let headroom = outcome.checks?.first { $0.name == StepCheck.Name.generatorHeadroom.rawValue }
        let generator = headroom?.figures["busiest_thread_busy"]
        let sut = headroom?.figures["sut_busiest_cpu"]
        func pct(_ v: Double?) -> String { v.map { "\(Int(($0 * 100).rounded()))%" } ?? "?" }
        if let headroom, !headroom.passed {
            return "the generator could not keep up (its busiest thread \(pct(generator)) busy), not the SUT"
        }
        if let sut, sut > StepChecks.generatorBusyLimit {
            return
                "the SUT saturated (its busiest CPU \(pct(sut)) busy, the generator's busiest thread \(pct(generator)))"
        }
        return
            "neither the generator (\(pct(generator)) busy) nor the SUT's CPUs (\(pct(sut))) were at their limit: a limit elsewhere (pipeline depth, connections, the link)"
    }

    /// `suspect (generator-headroom, quiet-host)` or `valid`.
    static func verdictText(_ outcome: StepOutcome) -> String {
        guard let verdict = outcome.verdict else { return "" }
        let failed = outcome.failedChecks.map(\.name)
        return failed.isEmpty ? verdict.rawValue : "\(verdict.rawValue) (\(failed.joined(separator: ", ")))"
    }
}
