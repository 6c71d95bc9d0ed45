/// Cumulative CPU time of one CPU (or all) from one `/proc/stat` line, in clock ticks (USER_HZ).
package struct CPUTimes: Codable, Equatable, Sendable {
    /// Time in user mode (includes guest time).
    package var user: UInt64 = 0
    /// Time in user mode at low priority.
    package var nice: UInt64 = 0
    /// Time in kernel mode.
    package var system: UInt64 = 0
    /// Idle time.
    package var idle: UInt64 = 0
    /// Idle time with I/O outstanding (counted as idle).
    package var iowait: UInt64 = 0
    /// Time servicing hardware interrupts.
    package var irq: UInt64 = 0
    /// Time servicing softirqs (most network stack work).
    package var softirq: UInt64 = 0
    /// Time the hypervisor ran something else (counted as busy: the guest wanted the CPU).
    package var steal: UInt64 = 0

    package init(
        user: UInt64 = 0, nice: UInt64 = 0, system: UInt64 = 0, idle: UInt64 = 0, iowait: UInt64 = 0,
        irq: UInt64 = 0, softirq: UInt64 = 0, steal: UInt64 = 0
    ) {
        self.user = user
        self.nice = nice
        self.system = system
        self.idle = idle
        self.iowait = iowait
        self.irq = irq
        self.softirq = softirq
        self.steal = steal
    }

    /// Busy: user, nice, system, irq, softirq, steal. (guest time is already inside user.)
    package var busy: UInt64 { user &+ nice &+ system &+ irq &+ softirq &+ steal }
    /// Idle: idle and iowait.
    package var idleTotal: UInt64 { idle &+ iowait }
}

/// One reading of `/proc/stat`: the aggregate line and each online CPU's line.
package struct ProcStatSnapshot: Equatable, Sendable {
    /// The aggregate `cpu` line.
    package var total: CPUTimes
    /// Keyed by CPU number; CPUs that are offline have no line.
    package var perCPU: [Int: CPUTimes]

    /// Parses the text of `/proc/stat`; `nil` when it has no aggregate `cpu` line.
    package init?(parsing text: String) {
        var total: CPUTimes?
        var perCPU: [Int: CPUTimes] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("cpu") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 5 else { continue }
            let n = fields.dropFirst().prefix(8).map { UInt64($0) ?? 0 } + Array(repeating: 0, count: 8)
            let times = CPUTimes(
                user: n[0], nice: n[1], system: n[2], idle: n[3], iowait: n[4], irq: n[5],
                softirq: n[6], steal: n[7])
            if fields[0] == "cpu" {
                total = times
            } else if let index = Int(fields[0].dropFirst(3)) {
                perCPU[index] = times
            }
        }
        guard let total else { return nil }
        self.total = total
        self.perCPU = perCPU
    }

    package init(total: CPUTimes, perCPU: [Int: CPUTimes]) {
        self.total = total
        self.perCPU = perCPU
    }
}

/// System-wide CPU use over a window, from two `/proc/stat` readings.
package struct CPUUsage: Codable, Equatable, Sendable {
    /// Busy CPU-seconds summed over the CPUs online at both ends.
    package var busySeconds: Double
    /// Idle CPU-seconds over the same CPUs.
    package var idleSeconds: Double
    /// Busy share of all CPU time in the window, percent of the whole machine (0...100).
    package var utilizationPercent: Double?
    /// Busy share per CPU, percent.
    package var perCPUPercent: [Int: Double]
    /// CPUs counted (online at both readings).
    package var cpus: Int
    /// Length of the window, seconds, by the agent's monotonic clock.
    package var wallSeconds: Double
    /// Cycles in the window: measured (perf_event_open) or busy seconds times the clock rate.
    package var cycles: Double?
    /// `perf_event` or `estimated-cpu-mhz`, or `none`.
    package var cyclesSource: String
    /// Anything the reader should know (CPUs that went offline, counters that went backwards).
    package var notes: [String]
    /// Time the meter itself spent reading its sources, nanoseconds (its whole cost per window).
    package var meterReadNs: Int64 = 0
    /// Busy plus idle ticks over CPUs × wall time: below 1 when the kernel lost ticks (a VM whose
    /// vCPUs were descheduled without steal accounting), and then busy time reads low by up to that gap.
    package var accountedFraction: Double?
    /// Softirq ticks over the CPUs counted (for a breakdown).
    package var softirqTicks: UInt64 = 0
    /// A `kvm` guest's host: where the busy time went (vCPUs, qemu, vhost, the rest).
    package var breakdown: CPUBreakdown?
    /// CPU used in the window by processes that were not part of the step (the quiet-host check).
    package var others: OtherProcesses?

    package init(
        busySeconds: Double, idleSeconds: Double, utilizationPercent: Double?, perCPUPercent: [Int: Double],
        cpus: Int, wallSeconds: Double, cycles: Double?, cyclesSource: String, notes: [String]
    ) {
        self.busySeconds = busySeconds
        self.idleSeconds = idleSeconds
        self.utilizationPercent = utilizationPercent
        self.perCPUPercent = perCPUPercent
        self.cpus = cpus
        self.wallSeconds = wallSeconds
        self.cycles = cycles
        self.cyclesSource = cyclesSource
        self.notes = notes
    }

    /// The usage between two readings. Only CPUs present in both count (a CPU that went offline or
    /// came online mid-window is left out and noted). A counter that went backwards (wrap or a
    /// hot-plugged CPU's reset) contributes nothing and is noted. A window with no ticks at all has
    /// no utilization (`nil`), not a division by zero.
    package static func between(
        _ a: ProcStatSnapshot, _ b: ProcStatSnapshot, ticksPerSecond: Double,
        wallSeconds: Double
    ) -> CPUUsage {
        var busy: UInt64 = 0
        var idle: UInt64 = 0
        var softirq: UInt64 = 0
        var perCPU: [Int: Double] = [:]
        var notes: [String] = []
        let common = Set(a.perCPU.keys).intersection(b.perCPU.keys)
        let changed = Set(a.perCPU.keys).symmetricDifference(b.perCPU.keys)
        if !changed.isEmpty {
            notes.append(
                "CPUs \(changed.sorted().map(String.init).joined(separator: ",")) went offline or online during the window; left out"
            )
        }
        for cpu in common.sorted() {
            let (x, y) = (a.perCPU[cpu]!, b.perCPU[cpu]!)
            guard let dBusy = delta(x.busy, y.busy), let dIdle = delta(x.idleTotal, y.idleTotal) else {
                notes.append("cpu\(cpu) counters went backwards; left out")
                continue
            }
            busy += dBusy
            idle += dIdle
            softirq += delta(x.softirq, y.softirq) ?? 0
            if dBusy + dIdle > 0 { perCPU[cpu] = Double(dBusy) / Double(dBusy + dIdle) * 100 }
        }
        let all = busy + idle
        var accounted: Double?
        if wallSeconds > 0 && !common.isEmpty {
            accounted = Double(all) / ticksPerSecond / (Double(common.count) * wallSeconds)
            if let a = accounted, a < 0.95 {
                notes.append(
                    String(
                        format:
                            "the CPU counters account for %.0f%% of the window (lost ticks or unreported steal); busy time may read up to %.0f%% low",
                        a * 100, (1 - a) * 100))
            }
        }
        var usage = CPUUsage(
            busySeconds: Double(busy) / ticksPerSecond, idleSeconds: Double(idle) / ticksPerSecond,
            utilizationPercent: all > 0 ? Double(busy) / Double(all) * 100 : nil, perCPUPercent: perCPU,
            cpus: common.count, wallSeconds: wallSeconds, cycles: nil, cyclesSource: "none", notes: notes)
        usage.accountedFraction = accounted
        usage.softirqTicks = softirq
        return usage
    }

    /// `b - a` for a monotonic counter; `nil` if it went backwards.
    private static func delta(_ a: UInt64, _ b: UInt64) -> UInt64? { b >= a ? b - a : nil }
}
