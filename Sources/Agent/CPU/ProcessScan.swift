import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// Every process's CPU ticks at one instant, from `/proc/PID/stat`, and the CPU used between two
/// scans by the processes that were not part of the step: the quiet-host check's figure.
struct ProcessScan: Sendable {
    struct Entry: Equatable, Sendable {
        var comm: String
        var ppid: Int
        /// utime + stime, clock ticks.
        var ticks: UInt64
        /// Start time in ticks since boot (a PID reused between scans is another process).
        var started: UInt64
    }

    var processes: [Int: Entry]

    /// Command names whose processes, and everything below them, belong to lockstep's steps or to
    /// the engines that place its guests.
    static let partOfTheStep: [String] = [
        "lockstep-agent", "lockstep", "dockerd", "containerd", "docker-proxy", "runc", "qemu-system-x86",
    ]

    /// Scans `/proc` (about a millisecond for a few hundred processes).
    static func read(root: String = "/proc") -> ProcessScan {
        var out: [Int: Entry] = [:]
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else {
            return ProcessScan(processes: [:])
        }
        for name in names {
            guard let pid = Int(name), let text = try? String(contentsOfFile: "\(root)/\(name)/stat", encoding: .utf8),
                let entry = parse(stat: text)
            else { continue }
            out[pid] = entry
        }
        return ProcessScan(processes: out)
    }

    /// One `/proc/PID/stat` line: `pid (comm) state ppid ... utime stime ... starttime`.
    static func parse(stat text: String) -> Entry? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close else {
            return nil
        }
        let comm = String(text[text.index(after: open)..<close])
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3); utime and stime are fields 14 and 15, starttime 22.
        guard fields.count > 19, let ppid = Int(fields[1]), let utime = UInt64(fields[11]),
            let stime = UInt64(fields[12]), let started = UInt64(fields[19])
        else { return nil }
        return Entry(comm: comm, ppid: ppid, ticks: utime &+ stime, started: started)
    }

    /// Whether `pid` is part of the step: this agent's own process, a kernel thread, or a process
    /// under one named in ``partOfTheStep`` (a container's processes sit under its shim).
    func isPartOfTheStep(_ pid: Int, own: Int) -> Bool {
        var current = pid
        for _ in 0..<64 {
            guard current > 0, let entry = processes[current] else { return false }
            if current == own || current == 2 || entry.ppid == 2 { return true }
            if Self.partOfTheStep.contains(entry.comm) || entry.comm.hasPrefix("containerd-shim")
                || entry.comm.hasPrefix("qemu-system")
            {
                return true
            }
            current = entry.ppid
        }
        return false
    }

    /// The CPU used between `before` and `after` by processes outside the step, the busiest named.
    static func others(
        before: ProcessScan, after: ProcessScan, ticksPerSecond: Double, own: Int = Int(getpid()),
        commandLine: (Int) -> String? = ProcessScan.commandLine
    ) -> OtherProcesses {
        var used: [(pid: Int, comm: String, seconds: Double)] = []
        for (pid, entry) in after.processes where !after.isPartOfTheStep(pid, own: own) {
            let earlier = before.processes[pid].flatMap { $0.started == entry.started ? $0.ticks : nil } ?? 0
            guard entry.ticks > earlier else { continue }
            used.append((pid, entry.comm, Double(entry.ticks - earlier) / ticksPerSecond))
        }
        used.sort { $0.seconds > $1.seconds }
        let top = used.prefix(5).filter { $0.seconds > 0 }.map { p in
            ProcessCPU(
                pid: p.pid, command: commandLine(p.pid).map { "\(p.comm): \($0)" } ?? p.comm, cpuSeconds: p.seconds)
        }
        return OtherProcesses(cpuSeconds: used.map(\.seconds).reduce(0, +), top: Array(top))
    }

    /// The first 120 characters of a process's command line, arguments joined by spaces.
    static func commandLine(_ pid: Int) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else {
            return nil
        }
        let text = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
        return String(text.prefix(120))
    }
}
