import CLockstepSys
import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// Measures this host's system-wide CPU use over exactly a step's measurement window: one
/// `/proc/stat` reading (and hardware cycle counters where the kernel offers them) when the window
/// opens, one when it closes or the step stops. Runs on its own thread, asleep in between; two reads
/// per step is all it costs (`meterReadNs` in the result says how long they took).
final class CPUMeter: @unchecked Sendable {
    private let stop = StopFlag()
    private var thread: EngineThread?
    private var result: CPUUsage?

    /// Starts metering the window `[startNs, endNs]` on the agent's clock; with `qemu`, also the
    /// breakdown of the host's busy time over a `kvm` guest's threads.
    init(startNs: Int64, endNs: Int64, qemu: QemuThreads? = nil) {
        thread = EngineThread(name: "cpu-meter") { [self] in
            result = measure(startNs: startNs, endNs: endNs, qemu: qemu)
        }
    }

    /// Ends the window now if it is still open, and returns the usage (`nil` if it never opened).
    func finish() -> CPUUsage? {
        stop.raise()
        thread?.join()
        thread = nil
        return result
    }

    /// Ends metering without waiting for a result (the step was abandoned).
    func stopWithoutResult() { stop.raise() }

    private func measure(startNs: Int64, endNs: Int64, qemu: QemuThreads?) -> CPUUsage? {
        // vhost-net's kernel threads are found once, before the window.
        let vhost = qemu.map { $0.vhost ? ThreadTimes.vhostThreads(of: $0.pid) : [] } ?? []
        // Every process's CPU is read a quarter second before the window and after it, never at its
        // edges: a /proc scan takes milliseconds that the step's own threads would wait for.
        guard sleep(until: startNs - Self.scanLeadNs) else { return nil }
        let scan0 = MonotonicClock.now()
        let processes0 = ProcessScan.read()
        guard sleep(until: startNs) else { return nil }
        let counters = CycleCounters()
        defer { counters.close() }
        let t0 = MonotonicClock.now()
        guard let a = ProcStatReader.read() else { return nil }
        let c0 = counters.read()
        let threads0 = qemu.map { ThreadTimes.read(process: $0.pid, extra: vhost) }
        let readNs = MonotonicClock.now() - t0
        _ = sleep(until: endNs)
        let t1 = MonotonicClock.now()
        guard let b = ProcStatReader.read() else { return nil }
        let c1 = counters.read()
        let threads1 = qemu.map { ThreadTimes.read(process: $0.pid, extra: vhost) }
        let t2 = MonotonicClock.now()
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var others = ProcessScan.others(before: processes0, after: ProcessScan.read(), ticksPerSecond: ticks)
        others.seconds = Double(MonotonicClock.now() - scan0) / 1e9
        var usage = CPUUsage.between(a, b, ticksPerSecond: ticks, wallSeconds: Double(t1 - t0) / 1e9)
        if let qemu, let threads0, let threads1 {
            usage.breakdown = CPUBreakdown.between(
                before: threads0, after: threads1, vcpus: Set(qemu.vcpus), vhost: Set(vhost),
                busySeconds: usage.busySeconds, softirqTicks: usage.softirqTicks, ticksPerSecond: ticks)
        }
        if let c0, let c1, c1 >= c0 {
            usage.cycles = Double(c1 - c0)
            usage.cyclesSource = "perf_event"
        } else if let mhz = ProcStatReader.averageMHz() {
            usage.cycles = usage.busySeconds * mhz * 1e6
            usage.cyclesSource = "estimated-cpu-mhz"
        }
        usage.meterReadNs = readNs + (t2 - t1)
        usage.others = others
        return usage
    }

    /// How long before the window the first process scan runs.
    static let scanLeadNs: Int64 = 250_000_000

    /// Sleeps until `deadline` in slices of at most 100 ms (few wakeups beside the data plane); `false` if stopped first.
    private func sleep(until deadline: Int64) -> Bool {
        while MonotonicClock.now() < deadline {
            if stop.isRaised { return false }
            MonotonicClock.sleepThenSpin(until: min(deadline, MonotonicClock.now() + 100_000_000), spinNs: 0)
        }
        return true
    }
}

/// System-wide hardware cycle counters, one per online CPU; empty where perf_event_open is refused.
struct CycleCounters {
    private var fds: [Int32] = []

    init() {
        let cpus = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        for cpu in 0..<cpus {
            let fd = lockstep_perf_cycles_open(Int32(cpu))
            guard fd >= 0 else {
                close()
                return
            }
            fds.append(fd)
        }
    }

    /// The sum over all CPUs, or `nil` without counters.
    func read() -> UInt64? {
        guard !fds.isEmpty else { return nil }
        var sum: UInt64 = 0
        for fd in fds {
            let v = lockstep_perf_read(fd)
            guard v >= 0 else { return nil }
            sum &+= UInt64(v)
        }
        return sum
    }

    func close() { fds.forEach { _ = Glibc.close($0) } }
}

/// Per-thread CPU time from `/proc`: a process's threads and a few others, `tid -> utime + stime`
/// in clock ticks.
enum ThreadTimes {
    static func read(process pid: Int32, extra: [Int32]) -> [Int32: UInt64] {
        var out: [Int32: UInt64] = [:]
        let tids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []).compactMap {
            Int32($0)
        }
        for tid in tids {
            if let t = ticks("/proc/\(pid)/task/\(tid)/stat") { out[tid] = t }
        }
        for tid in extra {
            if let t = ticks("/proc/\(tid)/stat") { out[tid] = t }
        }
        return out
    }

    /// The kernel threads vhost-net runs for process `pid` (named `vhost-PID`).
    static func vhostThreads(of pid: Int32) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }.filter {
            ProcStatReader.readFile("/proc/\($0)/comm")?.hasPrefix("vhost-\(pid)") ?? false
        }
    }

    /// utime + stime (fields 14 and 15) of a `/proc/.../stat` file.
    static func ticks(_ path: String) -> UInt64? {
        guard let text = ProcStatReader.readFile(path), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        return user + system
    }
}

/// Reads `/proc/stat` and `/proc/cpuinfo` with plain reads into a reused buffer.
enum ProcStatReader {
    static func read() -> ProcStatSnapshot? {
        readFile("/proc/stat").flatMap(ProcStatSnapshot.init(parsing:))
    }

    /// Mean of the `cpu MHz` lines, if the kernel shows them.
    static func averageMHz() -> Double? {
        guard let text = readFile("/proc/cpuinfo") else { return nil }
        let values = text.split(separator: "\n").filter { $0.hasPrefix("cpu MHz") }.compactMap {
            $0.split(separator: ":").last.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        }
        return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
