/// Where a `kvm` guest's host spent its busy CPU time over a step's window, in CPU-seconds: the
/// guest's vCPU threads, qemu's other threads (its main loop, I/O threads), vhost-net's kernel
/// threads, and everything else. `softirq` is the machine's softirq time (most of the network
/// stack's work), which the kernel also charges to whatever task it interrupted, so it overlaps the
/// others and is not part of their sum.
package struct CPUBreakdown: Codable, Equatable, Sendable {
    /// The guest's vCPU threads (the guest's own work, as the host sees it).
    package var vcpuSeconds: Double
    /// qemu's other threads: its main loop, I/O and device emulation.
    package var qemuOtherSeconds: Double
    /// vhost-net's kernel threads (the guest's network path outside qemu).
    package var vhostSeconds: Double
    /// The machine's busy time not in the three above (peers on this host, the host agent, the kernel).
    package var restSeconds: Double
    /// The machine's softirq time (overlaps the others; not part of their sum).
    package var softirqSeconds: Double
    /// Threads read: vCPUs, other qemu threads, vhost threads.
    package var threads: [String: Int]

    package init(
        vcpuSeconds: Double, qemuOtherSeconds: Double, vhostSeconds: Double, restSeconds: Double,
        softirqSeconds: Double, threads: [String: Int]
    ) {
        self.vcpuSeconds = vcpuSeconds
        self.qemuOtherSeconds = qemuOtherSeconds
        self.vhostSeconds = vhostSeconds
        self.restSeconds = restSeconds
        self.softirqSeconds = softirqSeconds
        self.threads = threads
    }

    /// The breakdown between two readings of per-thread CPU ticks (`tid -> utime+stime`) and of
    /// `/proc/stat`: vCPU and vhost threads by id, every other thread of qemu's as "other"; a thread
    /// present at only one reading counts from zero (born) or not at all (ended).
    package static func between(
        before: [Int32: UInt64], after: [Int32: UInt64], vcpus: Set<Int32>, vhost: Set<Int32>,
        busySeconds: Double, softirqTicks: UInt64, ticksPerSecond: Double
    ) -> CPUBreakdown {
        var vcpu: UInt64 = 0
        var vhostTicks: UInt64 = 0
        var other: UInt64 = 0
        var counts = ["vcpu": 0, "qemu_other": 0, "vhost": 0]
        for (tid, end) in after {
            let start = before[tid] ?? 0
            let used = end >= start ? end - start : 0
            if vcpus.contains(tid) {
                vcpu += used
                counts["vcpu", default: 0] += 1
            } else if vhost.contains(tid) {
                vhostTicks += used
                counts["vhost", default: 0] += 1
            } else {
                other += used
                counts["qemu_other", default: 0] += 1
            }
        }
        let seconds = { (ticks: UInt64) in Double(ticks) / ticksPerSecond }
        let accounted = seconds(vcpu) + seconds(other) + seconds(vhostTicks)
        return CPUBreakdown(
            vcpuSeconds: seconds(vcpu), qemuOtherSeconds: seconds(other), vhostSeconds: seconds(vhostTicks),
            restSeconds: max(0, busySeconds - accounted), softirqSeconds: seconds(softirqTicks), threads: counts)
    }
}
