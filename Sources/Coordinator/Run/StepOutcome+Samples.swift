import Foundation
import Shared

extension StepOutcome {
    /// Every sample of the step: the workload's rows, then CPU, synchronization and interval rows.
    func samples(runID: String) -> [MetricSample] {
        let labels = baseLabels(runID: runID)
        // With several peers: the totals first, then each peer's own rows labelled `peer`.
        var perPeer: [MetricSample] = []
        if peers.count > 1 {
            for side in peers {
                var l = labels
                l["peer"] = side.name
                if let share = side.share { l["share"] = String(share.loadUnits) }
                perPeer += workload.metrics.peerRows(self, peer: side, labels: l)
            }
        }
        return workload.metrics.rows(self, labels: labels) + perPeer + cpuSamples(labels: labels) + [
            CommonMetrics.startSkew.sample(Double(startSkewNs) / 1000, syncLabels(labels)),
            CommonMetrics.clockError.sample(Double(clockErrorNs) / 1000, labels),
        ] + intervalSamples(labels: labels)
    }

    /// The sync rows' labels: how each agent spun into the start (`realtime_starts`: `peer=fifo
    /// sut=other`, SCHED_FIFO where the agent had the right) and how its clock was probed.
    private func syncLabels(_ labels: [String: String]) -> [String: String] {
        var l = labels
        let spins = sides.compactMap { side in side.realtimeStart.map { "\(side.name)=\($0 ? "fifo" : "other")" } }
        if !spins.isEmpty { l["realtime_starts"] = spins.sorted().joined(separator: " ") }
        let methods = Set(sides.compactMap { $0.clock.after?.method ?? $0.clock.before.method })
        if !methods.isEmpty { l["clock_method"] = methods.sorted().joined(separator: ",") }
        return l
    }

    /// The HdrHistogram percentile distribution in microseconds, for workloads with a latency histogram.
    var hgrm: String? {
        guard let histogram = workload.metrics.latency(self) else { return nil }
        var text = ""
        histogram.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1000)
        return text
    }

    /// System-wide CPU of every agent's host over the window, named by role (`sut_cpu_util_pct`,
    /// `peer_...`, `host_...`) and labelled with the agent's name and role.
    private func cpuSamples(labels: [String: String]) -> [MetricSample] {
        var out: [MetricSample] = []
        for side in sides {
            guard let cpu = side.result.cpu else { continue }
            var l = labels
            l["host"] = side.name
            l["role"] = side.role.rawValue
            l["cycles_source"] = cpu.cyclesSource
            if side.role == .peer && peers.count > 1 { l["peer"] = side.name }
            if let util = cpu.utilizationPercent { out.append(CommonMetrics.cpuUtil(side.role).sample(util, l)) }
            out.append(CommonMetrics.cpuSeconds(side.role).sample(cpu.busySeconds, l))
            if let accounted = cpu.accountedFraction {
                out.append(CommonMetrics.cpuAccounted(side.role).sample(accounted * 100, l))
            }
        }
        // A kvm guest's host: where its busy time went (vCPU threads, qemu's others, vhost, the rest).
        for side in sides where side.role == .host {
            guard let breakdown = side.result.cpu?.breakdown else { continue }
            var l = labels
            l["host"] = side.name
            l["role"] = side.role.rawValue
            let values = [
                breakdown.vcpuSeconds, breakdown.qemuOtherSeconds, breakdown.vhostSeconds, breakdown.restSeconds,
                breakdown.softirqSeconds,
            ]
            out += zip(CommonMetrics.hostBreakdown, values).map { $0.sample($1, l) }
        }
        // Which NAT path the step's traffic took (netns-nat's rule counters, read by the host agent).
        for side in sides where side.role == .host {
            guard let meter = side.result.outcome.as(HostMeterResult.self), let nat = meter.natPackets else { continue }
            var l = labels
            l["host"] = side.name
            out.append(CommonMetrics.natPrerouting.sample(Double(nat.prerouting), l))
            out.append(CommonMetrics.natOutput.sample(Double(nat.output), l))
        }
        // CPU per operation of the SUT and of the machine under it (in native the SUT agent is the host),
        // over what the sides that ended the window completed.
        let operations = enders.compactMap(\.result.completions).reduce(0, +)
        let host = sides.first { $0.role == .host } ?? sut
        for (metric, side) in [(CommonMetrics.sutCPUPerOp, sut), (CommonMetrics.hostCPUPerOp, host)]
        where operations > 0 {
            guard let cpu = side.result.cpu else { continue }
            var l = labels
            l["host"] = side.name
            l["role"] = side.role.rawValue
            out.append(metric.sample(cpu.busySeconds * 1e6 / Double(operations), l))
        }
        return out
    }

    /// One sample per agent interval, labelled `kind=interval` with the agent's name and role.
    private func intervalSamples(labels: [String: String]) -> [MetricSample] {
        var out: [MetricSample] = []
        let ordered = peers + sides.filter { $0.role != .peer }
        let rate = workload.type.intervalRate ?? CommonMetrics.Interval.transactionsPerSec
        for side in ordered where workload.type.reportsIntervals(workload.spec, role: side.role) {
            for interval in side.intervals {
                var l = labels
                l["kind"] = "interval"
                l["interval"] = String(interval.index)
                l["host"] = side.name
                l["role"] = side.role.rawValue
                if side.role == .peer && peers.count > 1 { l["peer"] = side.name }
                l["t_s"] = String(format: "%.3f", Double(interval.tNs - side.result.startedNs) / 1e9)
                l["warmup"] = interval.tNs <= side.result.windowStartNs ? "true" : "false"
                if let gbps = interval.gbps {
                    out.append(CommonMetrics.Interval.goodput.sample(gbps, l))
                } else {
                    out.append(rate.sample(interval.transactionsPerSecond, l))
                    out.append(CommonMetrics.Interval.lost.sample(Double(interval.lost), l))
                    if let latency = interval.meanLatencyUs {
                        out.append(CommonMetrics.Interval.latencyMean.sample(latency, l))
                    }
                }
                if let cpu = interval.cpuPercent { out.append(CommonMetrics.Interval.cpuUtil.sample(cpu, l)) }
            }
        }
        return out
    }
}
