import Testing

@testable import Shared

@Suite struct ProcStatTests {
    /// Recorded from a 2-CPU machine (Linux 6.x), trimmed.
    let recordedA = """
        cpu  10132153 290696 3084719 46828483 16683 0 25195 0 175628 0
        cpu0 1393280 32966 572056 5762498 3015 0 10155 0 23342 0
        cpu1 1299915 31839 462735 5886880 2208 0 2390 0 22512 0
        intr 1462898055 38 5 0 0 0 0 0 0 0 0 0 0 0 0 0 0
        ctxt 2764932147
        btime 1700000000
        processes 1234567
        procs_running 2
        procs_blocked 0
        softirq 480398946 1 93462089 5 5213829 4563217 0 1134883 208395339 1 167609582
        """

    func snapshot(_ text: String) -> ProcStatSnapshot { ProcStatSnapshot(parsing: text)! }

    @Test func parsesTheAggregateAndEachCPU() {
        let s = snapshot(recordedA)
        #expect(
            s.total
                == CPUTimes(
                    user: 10132153, nice: 290696, system: 3084719, idle: 46828483, iowait: 16683,
                    irq: 0, softirq: 25195, steal: 0))
        #expect(s.perCPU.keys.sorted() == [0, 1])
        #expect(s.perCPU[1]?.softirq == 2390)
        // guest time is already inside user: it is not added twice.
        #expect(s.perCPU[0]?.busy == 1393280 + 32966 + 572056 + 10155)
        #expect(s.perCPU[0]?.idleTotal == 5762498 + 3015)
    }

    @Test func oldKernelsWithFewerColumnsParse() {
        let s = snapshot("cpu  1 2 3 4\ncpu0 1 2 3 4\n")
        #expect(s.perCPU[0] == CPUTimes(user: 1, nice: 2, system: 3, idle: 4))
    }

    @Test func notProcStatIsNil() {
        #expect(ProcStatSnapshot(parsing: "hello\nworld") == nil)
    }

    @Test func windowArithmetic() {
        let a = ProcStatSnapshot(
            total: CPUTimes(),
            perCPU: [
                0: CPUTimes(user: 100, system: 50, idle: 1000, iowait: 10, irq: 1, softirq: 4, steal: 5),
                1: CPUTimes(user: 10, idle: 2000),
            ])
        let b = ProcStatSnapshot(
            total: CPUTimes(),
            perCPU: [
                0: CPUTimes(user: 160, system: 70, idle: 1010, iowait: 10, irq: 2, softirq: 8, steal: 5),
                1: CPUTimes(user: 10, idle: 2100),
            ])
        let u = CPUUsage.between(a, b, ticksPerSecond: 100, wallSeconds: 1)
        // cpu0: busy 60+20+1+4 = 85 ticks, idle 10; cpu1: busy 0, idle 100.
        #expect(u.busySeconds == 0.85)
        #expect(u.idleSeconds == 1.10)
        #expect(u.perCPUPercent[0]! > 89.4 && u.perCPUPercent[0]! < 89.5)
        #expect(u.perCPUPercent[1] == 0)
        #expect(abs(u.utilizationPercent! - 85.0 / 195.0 * 100) < 1e-9)
        #expect(u.cpus == 2)
        #expect(u.notes.isEmpty)
    }

    @Test func cpuGoingOfflineIsLeftOutAndNoted() {
        let a = ProcStatSnapshot(
            total: CPUTimes(), perCPU: [0: CPUTimes(user: 0, idle: 0), 1: CPUTimes(user: 0, idle: 0)])
        let b = ProcStatSnapshot(total: CPUTimes(), perCPU: [0: CPUTimes(user: 50, idle: 50)])
        let u = CPUUsage.between(a, b, ticksPerSecond: 100, wallSeconds: 1)
        #expect(u.cpus == 1)
        #expect(u.utilizationPercent == 50)
        #expect(u.notes.first?.contains("CPUs 1") == true)
    }

    @Test func counterGoingBackwardsContributesNothing() {
        // A wrapped (or reset, after hot-plug) counter must not become 2^64 ticks of busy time.
        let a = ProcStatSnapshot(
            total: CPUTimes(),
            perCPU: [
                0: CPUTimes(user: UInt64.max - 5, idle: 100), 1: CPUTimes(user: 10, idle: 100),
            ])
        let b = ProcStatSnapshot(
            total: CPUTimes(),
            perCPU: [
                0: CPUTimes(user: 20, idle: 150), 1: CPUTimes(user: 30, idle: 180),
            ])
        let u = CPUUsage.between(a, b, ticksPerSecond: 100, wallSeconds: 1)
        #expect(u.busySeconds == 0.2)
        #expect(u.utilizationPercent == 20)
        #expect(u.notes.contains { $0.contains("cpu0") })
    }

    @Test func lostTicksAreReportedNotHidden() {
        // 2 CPUs over 1 s at 100 ticks/s should give 200 ticks; only 180 were accounted.
        let a = ProcStatSnapshot(total: CPUTimes(), perCPU: [0: CPUTimes(), 1: CPUTimes()])
        let b = ProcStatSnapshot(
            total: CPUTimes(), perCPU: [0: CPUTimes(user: 60, idle: 30), 1: CPUTimes(user: 40, idle: 50)])
        let u = CPUUsage.between(a, b, ticksPerSecond: 100, wallSeconds: 1)
        #expect(u.accountedFraction == 0.9)
        #expect(u.notes.contains { $0.contains("account for 90% of the window") })
        let full = ProcStatSnapshot(
            total: CPUTimes(), perCPU: [0: CPUTimes(user: 60, idle: 40), 1: CPUTimes(user: 40, idle: 60)])
        #expect(CPUUsage.between(a, full, ticksPerSecond: 100, wallSeconds: 1).notes.isEmpty)
    }

    @Test func windowShorterThanATickHasNoUtilization() {
        let a = snapshot(recordedA)
        let u = CPUUsage.between(a, a, ticksPerSecond: 100, wallSeconds: 0.004)
        #expect(u.utilizationPercent == nil)
        #expect(u.busySeconds == 0)
    }

    @Test func streamSpecProblems() {
        #expect(StreamSpec().problems().isEmpty)
        #expect(StreamSpec(streams: 0).problems().first?.contains("streams") == true)
        #expect(StreamSpec(bufferSize: 0).problems().first?.contains("buffer") == true)
        #expect(StreamSpec(socketBuffer: 10).problems().first?.contains("socket buffer") == true)
        #expect(StreamSpec(rateBitsPerSecond: 0).problems().first?.contains("rate") == true)
    }
}

@Suite struct CPUBreakdownTests {
    @Test func threadsSplitIntoVCPUsQemuVhostAndTheRest() {
        // 100 ticks per second: a vCPU used 150, another 50; qemu's main loop 30; a vhost thread 20;
        // an I/O thread born during the window 10; the machine was busy 3.0 s, 0.4 s of it softirq.
        let before: [Int32: UInt64] = [10: 1_000, 11: 500, 12: 2_000, 90: 7]
        let after: [Int32: UInt64] = [10: 1_150, 11: 550, 12: 2_030, 90: 27, 13: 10]
        let b = CPUBreakdown.between(
            before: before, after: after, vcpus: [10, 11], vhost: [90], busySeconds: 3.0, softirqTicks: 40,
            ticksPerSecond: 100)
        #expect(b.vcpuSeconds == 2.0)
        #expect(b.qemuOtherSeconds == 0.4)
        #expect(b.vhostSeconds == 0.2)
        #expect(abs(b.restSeconds - 0.4) < 1e-9)
        #expect(b.softirqSeconds == 0.4)
        #expect(b.threads == ["vcpu": 2, "qemu_other": 2, "vhost": 1])
        // Threads that read more than the machine's counters (lost ticks) leave no negative rest.
        let over = CPUBreakdown.between(
            before: [:], after: [10: 500], vcpus: [10], vhost: [], busySeconds: 3.0, softirqTicks: 0,
            ticksPerSecond: 100)
        #expect(over.restSeconds == 0)
    }
}
