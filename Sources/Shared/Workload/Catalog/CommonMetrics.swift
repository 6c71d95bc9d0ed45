/// The metrics every step reports whatever its workload: each agent's CPU over the window, CPU per
/// operation, the clocks' synchronization, the NAT path, and the per-second interval rows.
package enum CommonMetrics {
    /// Length of the measurement window on the clock of the side that ends it.
    package static let window = Metric(
        "window_seconds", unit: "s", kind: .gauge, better: .neither,
        help: "length of the measurement window on the clock of the side that ends it")
    /// The SUT's busy CPU time per completed operation.
    package static let sutCPUPerOp = Metric(
        "sut_cpu_us_per_op", unit: "us/op", kind: .gauge, better: .lower,
        help: "the SUT's busy CPU time per completed operation")
    /// The machine's busy CPU time per completed operation (the host agent's view).
    package static let hostCPUPerOp = Metric(
        "host_cpu_us_per_op", unit: "us/op", kind: .gauge, better: .lower,
        help: "the machine's busy CPU time per completed operation (the host agent's view)")
    /// Latest minus earliest start of the step's agents on the coordinator's timeline.
    package static let startSkew = Metric(
        "start_skew_us", unit: "us", kind: .gauge, better: .lower,
        help: "latest minus earliest start of the step's agents on the coordinator's timeline")
    /// Error bound of cross-host comparisons in the step: the two largest offset bounds added.
    package static let clockError = Metric(
        "clock_offset_error_us", unit: "us", kind: .gauge, better: .lower,
        help: "error bound of cross-host comparisons in the step: the two largest offset bounds added")
    /// Open loop: the rate the step asked of its generators.
    package static let offeredRate = Metric(
        "offered_rate_per_sec", unit: "requests/s", kind: .gauge, better: .neither,
        help: "open loop: the requests (transactions) per second the step asked of its generators")
    /// Open loop: the window's requests that left late or not at all.
    package static let lateRequests = Metric(
        "late_requests", unit: "requests", kind: .counter, better: .lower,
        help:
            "open loop: requests intended inside the window that left more than 1 ms after their intended time, or not at all"
    )
    /// The metrics of an open-loop step.
    package static let openLoop = [offeredRate, lateRequests]

    /// Packets netns-nat's DNAT translated in the prerouting hook (traffic from other hosts).
    package static let natPrerouting = Metric(
        "nat_prerouting_packets", unit: "packets", kind: .counter, better: .neither,
        help: "packets netns-nat's DNAT translated in the prerouting hook (traffic from other hosts)")
    /// Packets netns-nat's DNAT translated in the output hook (this host's own traffic).
    package static let natOutput = Metric(
        "nat_output_packets", unit: "packets", kind: .counter, better: .neither,
        help: "packets netns-nat's DNAT translated in the output hook (this host's own traffic)")

    /// System-wide CPU utilization of the host of the agent in `role` over the window.
    package static func cpuUtil(_ role: Role) -> Metric {
        Metric(
            "\(role.rawValue)_cpu_util_pct", unit: "%", kind: .gauge, better: .lower,
            help: "system-wide CPU utilization of the \(role.rawValue) agent's host over the window")
    }

    /// Busy CPU seconds of the host of the agent in `role` over the window.
    package static func cpuSeconds(_ role: Role) -> Metric {
        Metric(
            "\(role.rawValue)_cpu_seconds", unit: "s", kind: .counter, better: .lower,
            help: "busy CPU seconds of the \(role.rawValue) agent's host over the window")
    }

    /// How much of the window's CPU time /proc/stat accounted for.
    package static func cpuAccounted(_ role: Role) -> Metric {
        Metric(
            "\(role.rawValue)_cpu_accounted_pct", unit: "%", kind: .gauge, better: .neither,
            help: "share of the window's CPU time the \(role.rawValue) host's /proc/stat accounted for")
    }

    /// Where a kvm guest's host spent its busy time.
    package static let hostBreakdown: [Metric] = [
        ("vcpu", "the guest's vCPU threads"), ("qemu_other", "qemu's other threads"), ("vhost", "vhost threads"),
        ("rest", "everything else busy"), ("softirq", "softirq time"),
    ].map { name, help in
        Metric("host_cpu_\(name)_seconds", unit: "s", kind: .counter, better: .lower, help: "CPU seconds of \(help)")
    }

    /// The interval rows' metrics (one row per agent and second, labelled `kind=interval`).
    package enum Interval {
        package static let goodput = StreamWorkload.goodput
        /// Completions per second where the workload names none of its own.
        package static let transactionsPerSec = RRWorkload.transactionsPerSec
        package static let lost = RRWorkload.lostTransactions
        /// Mean latency in the second.
        package static let latencyMean = Metric(
            "latency_mean_us", unit: "us", kind: .gauge, better: .lower, help: "mean latency in the second")
        /// The agent's host CPU in the second.
        package static let cpuUtil = Metric(
            "cpu_util_pct", unit: "%", kind: .gauge, better: .lower, help: "the agent's host CPU in the second")
    }

    /// Every metric that does not depend on a role, for exporters and the catalog test.
    package static let all: [Metric] =
        [window, sutCPUPerOp, hostCPUPerOp, startSkew, clockError, natPrerouting, natOutput] + hostBreakdown
        + Role.allCases.flatMap { [cpuUtil($0), cpuSeconds($0), cpuAccounted($0)] }
}
