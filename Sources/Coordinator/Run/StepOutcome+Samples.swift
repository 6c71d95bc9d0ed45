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
            MetricSample(
                metric: "start_skew_us", value: Double(startSkewNs) / 1000, unit: "us", labels: syncLabels(labels)),
            MetricSample(
                metric: "clock_offset_error_us", value: Double(clockErrorNs) / 1000, unit: "us", labels: labels),
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
            let prefix = side.role.rawValue
            var l = labels
            l["host"] = side.name
            l["role"] = side.role.rawValue
            l["cycles_source"] = cpu.cyclesSource
            if side.role == .peer && peers.count > 1 { l["peer"] = side.name }
            if let util = cpu.utilizationPercent {
                out.append(MetricSample(metric: "\(prefix)_cpu_util_pct", value: util, unit: "%", labels: l))
            }
            out.append(MetricSample(metric: "\(prefix)_cpu_seconds", value: cpu.busySeconds, unit: "s", labels: l))
            if let accounted = cpu.accountedFraction {
                out.append(
                    MetricSample(metric: "\(prefix)_cpu_accounted_pct", value: accounted * 100, unit: "%", labels: l))
            }
        }
        // A kvm guest's host: where its busy time went (vCPU threads, qemu's others, vhost, the rest).
        for side in sides where side.role == .host {
            guard let breakdown = side.result.cpu?.breakdown else { continue }
            var l = labels
            l["host"] = side.name
            l["role"] = side.role.rawValue
            for (name, value) in [
                ("host_cpu_vcpu_seconds", breakdown.vcpuSeconds),
                ("host_cpu_qemu_other_seconds", breakdown.qemuOtherSeconds),
                ("host_cpu_vhost_seconds", breakdown.vhostSeconds),
                ("host_cpu_rest_seconds", breakdown.restSeconds),
                ("host_cpu_softirq_seconds", breakdown.softirqSeconds),
            ] {
                out.append(MetricSample(metric: name, value: value, unit: "s", labels: l))
            }
        }
        // Which NAT path the step's traffic took (netns-nat's rule counters, read by the host agent).
        for side in sides where side.role == .host {
            guard case .hostMeter(let meter) = side.result.outcome, let nat = meter.natPackets else { continue }
            var l = labels
            l["host"] = side.name
            out.append(
                MetricSample(
                    metric: "nat_prerouting_packets", value: Double(nat.prerouting), unit: "packets", labels: l))
            out.append(
                MetricSample(metric: "nat_output_packets", value: Double(nat.output), unit: "packets", labels: l))
        }
        // CPU per operation of the SUT and of the machine under it (in native the SUT agent is the host).
        let operations = peers.compactMap(\.result.completions).reduce(0, +)
        let host = sides.first { $0.role == .host } ?? sut
        for (metric, side) in [("sut_cpu_us_per_op", sut), ("host_cpu_us_per_op", host)] where operations > 0 {
            guard let cpu = side.result.cpu else { continue }
            var l = labels
            l["host"] = side.name
            l["role"] = side.role.rawValue
            out.append(
                MetricSample(
                    metric: metric, value: cpu.busySeconds * 1e6 / Double(operations), unit: "us/op", labels: l))
        }
        return out
    }

    /// One sample per agent interval, labelled `kind=interval` with the agent's name and role.
    private func intervalSamples(labels: [String: String]) -> [MetricSample] {
        var out: [MetricSample] = []
        let ordered = peers + sides.filter { $0.role != .peer }
        for side in ordered {
            // Bulk goodput is what arrived: only the receiving side's intervals count.
            if case .stream(let s) = workload, side.role != (s.sutSends ? .peer : .sut) { continue }
            for interval in side.intervals {
                var l = labels
                l["kind"] = "interval"
                l["interval"] = String(interval.index)
                l["host"] = side.name
                l["role"] = side.role.rawValue
                if side.role == .peer && peers.count > 1 { l["peer"] = side.name }
                l["t_s"] = String(format: "%.3f", Double(interval.tNs - side.result.startedNs) / 1e9)
                l["warmup"] = interval.tNs <= side.result.windowStartNs ? "true" : "false"
                let seconds = Double(max(interval.lengthNs, 1)) / 1e9
                if let bytes = interval.bytes {
                    out.append(
                        MetricSample(
                            metric: "goodput_gbps", value: Double(bytes) * 8 / seconds / 1e9, unit: "Gbit/s", labels: l)
                    )
                } else {
                    out.append(
                        MetricSample(
                            metric: "transactions_per_sec", value: Double(interval.transactions) / seconds,
                            unit: "transactions/s", labels: l))
                    out.append(
                        MetricSample(
                            metric: "lost_transactions", value: Double(interval.lost), unit: "transactions", labels: l))
                    if let sum = interval.latencyNs, interval.transactions > 0 {
                        out.append(
                            MetricSample(
                                metric: "latency_mean_us", value: Double(sum) / Double(interval.transactions) / 1000,
                                unit: "us", labels: l))
                    }
                }
                if let cpu = interval.cpuPercent {
                    out.append(MetricSample(metric: "cpu_util_pct", value: cpu, unit: "%", labels: l))
                }
            }
        }
        return out
    }
}
