import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a result depends on beyond the step's parameters, read by each agent on its host at connect:
/// the kernel and its command line, CPUs, SMT, frequency governor, NUMA nodes, memory, the network
/// interfaces (driver, firmware, offloads, IRQ affinity), the network sysctls and the docker and qemu
/// versions. Recorded per host in `run.json`; a resumed run flags a host whose provenance changed.
package struct Provenance: Codable, Equatable, Sendable {
    /// One network interface.
    package struct Interface: Codable, Equatable, Sendable {
        package var name: String
        /// The driver (`/sys/class/net/N/device/driver`, else `ethtool -i`); `nil` for virtual ones.
        package var driver: String?
        /// `ethtool -i`'s firmware-version, where ethtool is present.
        package var firmware: String?
        /// `ethtool -k`'s offloads that are on, where ethtool is present.
        package var offloadsOn: [String]?
        /// IRQ number to its CPU list, for the IRQs `/proc/interrupts` names after the interface.
        package var irqAffinity: [String: String]?
        package var mtu: Int?
    }

    package var kernelCommandLine: String
    package var onlineCPUs: String
    /// Whether SMT is active (`/sys/devices/system/cpu/smt/active`); `nil` where the kernel does not say.
    package var smtActive: Bool?
    /// The frequency governor of each policy, deduplicated (`performance`, `schedutil`); empty without cpufreq.
    package var governors: [String]
    package var numaNodes: Int
    package var memoryBytes: Int64
    package var interfaces: [Interface]
    /// `net.core.*` and `net.ipv4.tcp_*`.
    package var sysctls: [String: String]
    package var dockerVersion: String?
    package var qemuVersion: String?

    /// Reads the provenance of this host: tens of milliseconds with `runningTools` (ethtool, docker and
    /// qemu once each), about a millisecond of file reads without (those fields then stay empty).
    package static func current(runningTools: Bool = true) -> Provenance {
        let cpuRoot = "/sys/devices/system/cpu"
        let policies = (try? FileManager.default.contentsOfDirectory(atPath: "\(cpuRoot)/cpufreq")) ?? []
        let governors = Set(policies.compactMap { read("\(cpuRoot)/cpufreq/\($0)/scaling_governor") }).sorted()
        let memTotal =
            read("/proc/meminfo")?.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int64($0) } ?? 0
        return Provenance(
            kernelCommandLine: read("/proc/cmdline") ?? "", onlineCPUs: read("\(cpuRoot)/online") ?? "",
            smtActive: read("\(cpuRoot)/smt/active").map { $0 == "1" }, governors: governors,
            numaNodes: CPUView.numaNodeCount(), memoryBytes: memTotal * 1024,
            interfaces: interfaces(runningTools: runningTools),
            sysctls: sysctls(), dockerVersion: runningTools ? Executable.firstLine(of: "docker", ["--version"]) : nil,
            qemuVersion: runningTools ? Executable.firstLine(of: "qemu-system-x86_64", ["--version"]) : nil)
    }

    /// A short fingerprint of what the file reads give (no tools run): the agents send it with every
    /// step's result, so a host that changed between two repetitions of a cell shows.
    package static func digest() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(current(runningTools: false))) ?? Data()
        return SHA256.hash(data: data).prefix(6).map { String(format: "%02x", $0) }.joined()
    }

    /// Links that come and go with lockstep's own modes and with containers: not facts of the host.
    package static func isTransient(_ name: String) -> Bool {
        ["lsbr", "lsvh", "lsvg", "veth", "docker"].contains { name.hasPrefix($0) }
    }

    private static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func interfaces(runningTools: Bool) -> [Interface] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? [])
            .filter { !isTransient($0) }.sorted()
        let interrupts = read("/proc/interrupts")?.split(separator: "\n") ?? []
        let hasEthtool = runningTools && Executable.find("ethtool") != nil
        return names.prefix(16).map { name in
            let base = "/sys/class/net/\(name)"
            var interface = Interface(name: name, mtu: read("\(base)/mtu").flatMap { Int($0) })
            if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(base)/device/driver") {
                interface.driver = URL(fileURLWithPath: link).lastPathComponent
            }
            if hasEthtool, name != "lo" {
                let info = Executable.outputLines(of: "ethtool", ["-i", name])
                interface.driver = interface.driver ?? value(info, "driver")
                interface.firmware = value(info, "firmware-version").flatMap { $0.isEmpty ? nil : $0 }
                interface.offloadsOn = Executable.outputLines(of: "ethtool", ["-k", name])
                    .filter { $0.hasSuffix(": on") || $0.contains(": on [") }
                    .map { String($0.split(separator: ":")[0]).trimmingCharacters(in: .whitespaces) }
            }
            var irqs: [String: String] = [:]
            for line in interrupts where line.hasSuffix(name) || line.contains(" \(name)-") {
                let irq = line.split(separator: ":")[0].trimmingCharacters(in: .whitespaces)
                if Int(irq) != nil, let cpus = read("/proc/irq/\(irq)/smp_affinity_list") { irqs[irq] = cpus }
            }
            if !irqs.isEmpty { interface.irqAffinity = irqs }
            return interface
        }
    }

    private static func sysctls() -> [String: String] {
        var out: [String: String] = [:]
        for (folder, prefix, filter) in [
            ("/proc/sys/net/core", "net.core.", ""), ("/proc/sys/net/ipv4", "net.ipv4.", "tcp_"),
        ] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            where name.hasPrefix(filter) && name != "netdev_rss_key" {
                if let value = read("\(folder)/\(name)") {
                    out[prefix + name] = value.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                }
            }
        }
        return out
    }

    private static func value(_ lines: [String], _ key: String) -> String? {
        lines.first { $0.hasPrefix("\(key):") }.map {
            String($0.dropFirst(key.count + 1)).trimmingCharacters(in: .whitespaces)
        }
    }
}
