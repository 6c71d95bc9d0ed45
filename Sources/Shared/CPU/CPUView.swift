import CLockstepSys
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The widest vector instruction set a placement's CPUs offer, from `/proc/cpuinfo`'s flags: what a
/// math library that dispatches on CPUID (OpenBLAS) will use, and why an untuned guest is slow.
package enum VectorISA: String, Codable, Sendable, CaseIterable, Comparable {
    case none
    case sse2
    case avx
    case avx2
    case avx512

    /// The widest set `flags` name (`avx512f`, `avx2`, `avx`, `sse2`).
    package init(flags: Set<String>) {
        if flags.contains("avx512f") {
            self = .avx512
        } else if flags.contains("avx2") {
            self = .avx2
        } else if flags.contains("avx") {
            self = .avx
        } else if flags.contains("sse2") {
            self = .sse2
        } else {
            self = .none
        }
    }

    /// Double-precision flops per cycle per core: the vector's doubles, x2 with fused multiply-add,
    /// x2 for two FMA units from AVX2 on (the textbook peak; a core that issues 512-bit operations
    /// in two halves reaches half of it).
    package func doubleFlopsPerCycle(fma: Bool) -> Int {
        switch self {
        case .none: 1
        case .sse2: 4
        case .avx: 8
        case .avx2: fma ? 16 : 8
        case .avx512: fma ? 32 : 16
        }
    }

    private var order: Int { Self.allCases.firstIndex(of: self)! }
    package static func < (a: Self, b: Self) -> Bool { a.order < b.order }
}

/// What the CPUs of a placement look like from inside it (the host, a container, a guest): the
/// model and the flags that decide numerical kernels, the CPUs this process may run on, the
/// topology, the clock, and the memory it may use. Recorded by every agent and in every CPU or
/// memory result, so a run shows why an untuned guest is slow.
package struct CPUView: Codable, Equatable, Sendable {
    /// `model name` of `/proc/cpuinfo`.
    package var model: String
    /// The flags of the first CPU that decide vector code: `sse2`, `pni` (SSE3), `avx`, `avx2`, `fma`,
    /// `avx512f`, `hypervisor`.
    package var flags: [String]
    /// The widest vector ISA.
    package var isa: VectorISA
    /// CPUs this process may run on (its affinity mask).
    package var cpus: Int
    /// Online CPUs of the kernel it runs on.
    package var onlineCPUs: Int
    /// Sockets, cores per socket and threads per core, from `/proc/cpuinfo`.
    package var sockets: Int
    package var coresPerSocket: Int
    package var threadsPerCore: Int
    /// NUMA nodes the kernel shows.
    package var numaNodes: Int
    /// The highest clock cpufreq reports (`cpuinfo_max_freq`), MHz.
    package var maxMHz: Double?
    /// The base clock in the model name (`@ 2.60GHz`), MHz.
    package var baseMHz: Double?
    /// `cpu MHz` of the first CPU (what the kernel measured at boot in a guest).
    package var currentMHz: Double?
    /// A cgroup CPU quota (`cpu.max`), in CPUs; `nil` without one.
    package var quotaCPUs: Double?
    /// Memory this process may use: the cgroup limit or MemAvailable, whichever is lower, bytes.
    package var memoryAvailableBytes: Int64

    /// The flags kept.
    package static let keptFlags: Set<String> = ["sse2", "pni", "avx", "avx2", "fma", "avx512f", "hypervisor"]

    /// The clock the peak uses: max, else base, else the measured one; MHz.
    package var peakMHz: Double? { maxMHz ?? baseMHz ?? currentMHz }

    /// Double-precision peak of `cores` CPUs: cores x GHz x flops per cycle; `nil` without a clock.
    package func peakGflops(cores: Int) -> Double? {
        guard let mhz = peakMHz, mhz > 0 else { return nil }
        let perCycle = isa.doubleFlopsPerCycle(fma: flags.contains("fma"))
        return Double(cores) * mhz / 1000 * Double(perCycle)
    }

    /// CPUs the placement may keep busy: its affinity, lowered by a quota.
    package var usableCPUs: Int {
        guard let quotaCPUs else { return cpus }
        return max(1, min(cpus, Int(quotaCPUs.rounded(.up))))
    }

    /// Reads the view of the process it runs in.
    package static func current() -> CPUView {
        func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
        // cgroup v2's files, else v1's (a container on a hybrid host): the quota as `QUOTA PERIOD`.
        let v1Quota = read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").flatMap { quota in
            read("/sys/fs/cgroup/cpu/cpu.cfs_period_us").map { period in
                let q = quota.trimmingCharacters(in: .whitespacesAndNewlines)
                return (q == "-1" ? "max" : q) + " " + period.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        var view = parse(
            cpuinfo: read("/proc/cpuinfo") ?? "", meminfo: read("/proc/meminfo") ?? "",
            cgroupCPUMax: read("/sys/fs/cgroup/cpu.max") ?? v1Quota,
            cgroupMemoryMax: read("/sys/fs/cgroup/memory.max") ?? read("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
        let allowed = allowedCPUs()
        view.cpus = allowed.isEmpty ? view.onlineCPUs : allowed.count
        view.numaNodes = numaNodeCount()
        if let khz = read("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").flatMap({
            Double($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }) {
            view.maxMHz = khz / 1000
        }
        return view
    }

    /// The view from the files' texts (pure, for tests): `cpus` is the online count until the
    /// affinity is read.
    package static func parse(cpuinfo: String, meminfo: String, cgroupCPUMax: String?, cgroupMemoryMax: String?)
        -> CPUView
    {
        var model = "unknown"
        var flags: Set<String> = []
        var mhz: Double?
        var processors = 0
        var physicalIDs = Set<String>()
        var coresPerSocket: Int?
        var siblings: Int?
        var seenFirst = false
        for line in cpuinfo.split(separator: "\n", omittingEmptySubsequences: false) {
            let parts = line.split(separator: ":", maxSplits: 1)
            let key = parts.first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            let value = parts.count == 2 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            switch key {
            case "processor":
                processors += 1
                seenFirst = processors > 1
            case "model name" where !seenFirst: model = value
            case "flags" where !seenFirst: flags = Set(value.split(separator: " ").map(String.init))
            case "cpu MHz" where !seenFirst: mhz = Double(value)
            case "physical id": physicalIDs.insert(value)
            case "cpu cores" where !seenFirst: coresPerSocket = Int(value)
            case "siblings" where !seenFirst: siblings = Int(value)
            default: break
            }
        }
        let sockets = max(1, physicalIDs.count)
        let cores = coresPerSocket ?? max(1, processors / sockets)
        let threads = max(1, (siblings ?? cores) / max(cores, 1))
        var view = CPUView(
            model: model, flags: flags.intersection(keptFlags).sorted(), isa: VectorISA(flags: flags),
            cpus: max(processors, 1), onlineCPUs: max(processors, 1), sockets: sockets, coresPerSocket: cores,
            threadsPerCore: threads, numaNodes: 1, maxMHz: nil, baseMHz: baseMHz(model), currentMHz: mhz,
            quotaCPUs: nil, memoryAvailableBytes: memAvailable(meminfo))
        if let max = cgroupCPUMax?.split(separator: " "), max.count == 2, let quota = Double(max[0]),
            let period = Double(max[1].trimmingCharacters(in: .whitespacesAndNewlines)), period > 0
        {
            view.quotaCPUs = quota / period
        }
        if let limit = cgroupMemoryMax.flatMap({ Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
            view.memoryAvailableBytes = min(view.memoryAvailableBytes, limit)
        }
        return view
    }

    /// `@ 2.60GHz` in a model name, MHz.
    static func baseMHz(_ model: String) -> Double? {
        guard let at = model.range(of: "@") else { return nil }
        let rest = model[at.upperBound...].trimmingCharacters(in: .whitespaces).lowercased()
        guard rest.hasSuffix("ghz"), let ghz = Double(rest.dropLast(3)) else { return nil }
        return ghz * 1000
    }

    /// MemAvailable (else MemFree) of `/proc/meminfo`, bytes.
    static func memAvailable(_ meminfo: String) -> Int64 {
        var fields: [String: Int64] = [:]
        for line in meminfo.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == ":" })
            // A figure past Int64 in bytes is no reading (the fuzzer's, not the kernel's): skipped.
            if parts.count >= 2, let kib = Int64(parts[1]),
                case let (bytes, false) = kib.multipliedReportingOverflow(by: 1024)
            {
                fields[String(parts[0])] = bytes
            }
        }
        return fields["MemAvailable"] ?? fields["MemFree"] ?? 0
    }

    /// The view of the process it runs in, where a step pins its engine to `cpus` (when given).
    package static func current(pinnedTo cpus: [Int]?) -> CPUView {
        var view = current()
        if let cpus, !cpus.isEmpty { view.cpus = cpus.count }
        return view
    }

    /// The CPUs this process may run on (its affinity mask, sched_getaffinity).
    package static func allowedCPUs() -> [Int] {
        var cpus = [Int32](repeating: 0, count: 1024)
        let n = cpus.withUnsafeMutableBufferPointer { lockstep_allowed_cpus($0.baseAddress, Int32($0.count)) }
        return n > 0 ? cpus.prefix(Int(n)).map(Int.init) : []
    }

    /// NUMA nodes the kernel shows (`/sys/devices/system/node/nodeN`), at least 1.
    package static func numaNodeCount() -> Int {
        let nodes = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/devices/system/node")) ?? []
        return max(1, nodes.filter { $0.hasPrefix("node") && Int($0.dropFirst(4)) != nil }.count)
    }
}
