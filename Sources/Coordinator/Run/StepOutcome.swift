import Foundation
import Shared

/// What one synchronized step measured on both agents, with the clocks needed to place it on the
/// coordinator's timeline. Workload-specific metrics live in `StepOutcome+RR` and `StepOutcome+Stream`.
struct StepOutcome {
    let stepID: String
    let workload: Workload
    let sut: SideResult
    let peer: SideResult
    let sutClock: ClockTrack
    let peerClock: ClockTrack
    /// Interval samples each agent streamed during the step.
    let intervalsByRole: [Role: [IntervalSample]]
    let sutName: String
    let peerName: String

    /// Start skew between the two agents on the coordinator's timeline.
    var startSkewNs: Int64 { abs(sutClock.toCoordinator(sut.startedNs) - peerClock.toCoordinator(peer.startedNs)) }

    /// Error bound of any cross-host comparison in this step (both offsets' bounds).
    var clockErrorNs: Int64 { sutClock.errorNs + peerClock.errorNs }

    /// The measurement window on the coordinator's timeline: the later start to the earlier stop,
    /// within the peer's window after warm-up.
    var window: (start: Int64, end: Int64) {
        let start = max(peerClock.toCoordinator(peer.windowStartNs), sutClock.toCoordinator(sut.startedNs))
        let end = min(peerClock.toCoordinator(peer.windowEndNs), sutClock.toCoordinator(sut.stoppedNs))
        return (start, max(start, end))
    }

    /// Labels every sample of this step carries.
    func baseLabels(runID: String) -> [String: String] {
        var labels = workload.spec.labels
        labels["workload"] = workload.name
        labels["step"] = stepID
        labels["run"] = runID
        return labels
    }

    /// Every sample of the step: workload metrics, CPU, synchronization, then interval samples.
    func samples(runID: String) -> [MetricSample] {
        let labels = baseLabels(runID: runID)
        let specific: [MetricSample]
        switch workload {
        case .rr(let spec): specific = rrSamples(spec, labels: labels)
        case .stream(let spec): specific = streamSamples(spec, labels: labels)
        case .redis(let spec): specific = redisSamples(spec, labels: labels)
        case .mysql(let spec): specific = mysqlSamples(spec, labels: labels)
        }
        return specific + cpuSamples(labels: labels) + [
            MetricSample(metric: "start_skew_us", value: Double(startSkewNs) / 1000, unit: "us", labels: labels),
            MetricSample(
                metric: "clock_offset_error_us", value: Double(clockErrorNs) / 1000, unit: "us", labels: labels),
        ] + intervalSamples(labels: labels)
    }

    /// System-wide CPU of both hosts over the window, for every workload.
    private func cpuSamples(labels: [String: String]) -> [MetricSample] {
        var out: [MetricSample] = []
        for (prefix, side, host) in [("sut", sut, sutName), ("peer", peer, peerName)] {
            guard let cpu = side.cpu else { continue }
            var l = labels
            l["host"] = host
            l["cycles_source"] = cpu.cyclesSource
            if let util = cpu.utilizationPercent {
                out.append(MetricSample(metric: "\(prefix)_cpu_util_pct", value: util, unit: "%", labels: l))
            }
            out.append(MetricSample(metric: "\(prefix)_cpu_seconds", value: cpu.busySeconds, unit: "s", labels: l))
            if let accounted = cpu.accountedFraction {
                out.append(
                    MetricSample(metric: "\(prefix)_cpu_accounted_pct", value: accounted * 100, unit: "%", labels: l))
            }
        }
        return out
    }

    /// One sample per agent interval, labelled `kind=interval`.
    private func intervalSamples(labels: [String: String]) -> [MetricSample] {
        var out: [MetricSample] = []
        for (role, side, host) in [(Role.peer, peer, peerName), (Role.sut, sut, sutName)] {
            // Bulk goodput is what arrived: only the receiving side's intervals count.
            if case .stream(let s) = workload, role != (s.sutSends ? .peer : .sut) { continue }
            for interval in intervalsByRole[role] ?? [] {
                var l = labels
                l["kind"] = "interval"
                l["interval"] = String(interval.index)
                l["host"] = host
                l["t_s"] = String(format: "%.3f", Double(interval.tNs - side.startedNs) / 1e9)
                l["warmup"] = interval.tNs <= side.windowStartNs ? "true" : "false"
                let seconds = Double(max(interval.lengthNs, 1)) / 1e9
                if let bytes = interval.bytes {
                    out.append(
                        MetricSample(
                            metric: "goodput_gbps", value: Double(bytes) * 8 / seconds / 1e9,
                            unit: "Gbit/s", labels: l))
                } else {
                    out.append(
                        MetricSample(
                            metric: "transactions_per_sec", value: Double(interval.transactions) / seconds,
                            unit: "transactions/s", labels: l))
                    out.append(
                        MetricSample(
                            metric: "lost_transactions", value: Double(interval.lost),
                            unit: "transactions", labels: l))
                }
            }
        }
        return out
    }

    /// One line for progress output.
    static func describe(_ workload: Workload) -> String {
        "\(workload.spec.summary), \(seconds(workload.timing.warmupNs)) warm-up + \(seconds(workload.timing.durationNs))"
    }

    private static func seconds(_ ns: Int64) -> String { String(format: "%gs", Double(ns) / 1e9) }
}
