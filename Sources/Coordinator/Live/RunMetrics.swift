import Foundation
import Observe
import Prometheus
import Shared

/// The coordinator's `/metrics` during a run (`--metrics ADDR`), through swift-prometheus: per agent
/// and step the per-second rate (`lockstep_step_rate`, labelled with its unit), the latency of each
/// second as a histogram (`lockstep_step_latency_seconds`), the agent's machine CPU, each agent's
/// clock offset and its bound, each step's start skew, steps done and failed, and the run's progress
/// and ETA. Labels are bounded: run, cell, mode, workload, role, agent (and unit); no step id, no text.
final class RunMetrics: RunObserver, @unchecked Sendable {
    let registry = PrometheusCollectorRegistry()
    private let lock = NSLock()
    private var run = ""
    private var pace = StepPace()
    private var runningGauge: Gauge?

    /// Latency buckets, seconds: 1 us to 10 s, three per decade.
    static let latencyBuckets: [Double] = (-6...1).flatMap { e in [1.0, 2.5, 5.0].map { $0 * pow(10, Double(e)) } }

    func runBegan(runID: String, directory: String, command: String, startedAt: String) {
        lock.withLock { run = runID }
        registry.gauge("lockstep_run_info", "the run being measured (always 1)", labels: [("run", runID)]).set(1.0)
        let running = registry.gauge("lockstep_run_running", "1 while the run goes, 0 after", labels: [("run", runID)])
        running.set(1.0)
        lock.withLock { runningGauge = running }
    }

    func stepBegan(_ step: ObservedStep, done: Int, total: String, lengthNs: Int64, remainingNs: Int64) {
        let (run, eta) = lock.withLock {
            let now = MonotonicClock.now()
            pace.began(lengthNs: lengthNs, remainingNs: remainingNs, done: done, total: total, at: now)
            return (self.run, pace.etaNs(at: now) ?? 0)
        }
        registry.gauge("lockstep_run_steps_done", "steps finished so far", labels: [("run", run)]).set(Double(done))
        let expected = Double(total.split(separator: "-").first.flatMap { Int($0) } ?? done)
        registry.gauge(
            "lockstep_run_steps_expected", "steps the run expects in all (a plan's lower bound)", labels: [("run", run)]
        )
        .set(expected)
        registry.gauge("lockstep_run_eta_seconds", "estimated seconds until the run ends", labels: [("run", run)])
            .set(Double(eta) / 1e9)
    }

    func interval(_ step: ObservedStep, agent: String, role: Role, sample: IntervalSample, load: Bool) {
        let labels = self.labels(step, role: role, agent: agent)
        if load {
            let (value, unit) = sample.rate(unit: step.rateUnit)
            registry.gauge(
                "lockstep_step_rate", "the step's rate in the last second, in its unit",
                labels: labels + [("unit", unit)]
            ).set(value)
            if let latency = sample.meanLatencyUs {
                registry.histogram(
                    "lockstep_step_latency_seconds", "mean latency of each second of the step",
                    buckets: Self.latencyBuckets, labels: labels
                ).record(latency / 1e6)
            }
        }
        if let cpu = sample.cpuPercent {
            registry.gauge(
                "lockstep_agent_cpu_percent", "the agent's machine's busy CPU in the last second, %", labels: labels
            )
            .set(cpu)
        }
        let eta = lock.withLock { pace.etaNs(at: MonotonicClock.now()) ?? 0 }
        registry.gauge(
            "lockstep_run_eta_seconds", "estimated seconds until the run ends", labels: [("run", currentRun)]
        )
        .set(Double(eta) / 1e9)
    }

    func clock(agent: String, role: Role, offsetNs: Int64, errorNs: Int64) {
        let labels = [("run", currentRun), ("role", role.rawValue), ("agent", agent)]
        registry.gauge("lockstep_clock_offset_seconds", "the agent's clock minus the coordinator's", labels: labels)
            .set(Double(offsetNs) / 1e9)
        registry.gauge("lockstep_clock_offset_bound_seconds", "the bound of that offset's error", labels: labels)
            .set(Double(errorNs) / 1e9)
    }

    func stepFinished(_ step: ObservedStep, samples: [MetricSample], outcome: StepOutcome, windowWall: DateInterval?) {
        finished(step, startSkewNs: outcome.startSkewNs)
    }

    /// A step finished with this start skew across its agents.
    func finished(_ step: ObservedStep, startSkewNs: Int64) {
        lock.withLock { pace.finished(at: MonotonicClock.now()) }
        let labels = cellLabels(step)
        registry.counter("lockstep_steps_done_total", "steps finished", labels: labels).increment()
        registry.gauge("lockstep_start_skew_seconds", "start skew across the step's agents (last step)", labels: labels)
            .set(Double(startSkewNs) / 1e9)
    }

    func stepFailed(_ step: ObservedStep, error: String) {
        registry.counter("lockstep_steps_failed_total", "steps that failed", labels: cellLabels(step)).increment()
    }

    func runEnded(status: RunStatus, error: String?) {
        let running = lock.withLock {
            pace.ended()
            return runningGauge
        }
        running?.set(0.0)
        registry.gauge(
            "lockstep_run_eta_seconds", "estimated seconds until the run ends", labels: [("run", currentRun)]
        )
        .set(0.0)
    }

    /// The exposition text now.
    func text() -> String { registry.emitToString() }

    private var currentRun: String { lock.withLock { run } }

    private func cellLabels(_ step: ObservedStep) -> [(String, String)] {
        [("run", currentRun), ("cell", step.cell), ("mode", step.mode), ("workload", step.workload)]
    }

    private func labels(_ step: ObservedStep, role: Role, agent: String) -> [(String, String)] {
        cellLabels(step) + [("role", role.rawValue), ("agent", agent)]
    }
}
