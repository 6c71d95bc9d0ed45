import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Facts about a host, for provenance in `run.json`.
package struct HostFacts: Codable, Equatable, Sendable {
    /// The node name (`uname -n`).
    package var hostname: String
    /// Kernel name and release (`uname -sr`).
    package var kernel: String
    /// First `model name` of `/proc/cpuinfo`.
    package var cpuModel: String
    /// Online CPUs.
    package var cores: Int
    /// The lockstep version running there.
    package var softwareVersion: String
    /// Whether its starting threads spin into a synchronized start at SCHED_FIFO (root or CAP_SYS_NICE).
    package var realtimeStarts: Bool?
    /// The host's provenance (agents only; `nil` from older agents).
    package var provenance: Provenance?
    /// What the interface under the agent's control address offers for clock-probe timestamps.
    package var timestamping: Timestamping?
    /// What the agent's CPUs look like from where it runs (a guest's from inside the guest):
    /// model, vector flags, topology, clock, memory; `nil` from older agents.
    package var cpu: CPUView?
    /// How its idle CPUs sleep (cpuidle driver and governor, boot options, haltpoll); `nil` from older agents.
    package var idle: IdlePolicy?

    package init(
        hostname: String, kernel: String, cpuModel: String, cores: Int, softwareVersion: String,
        realtimeStarts: Bool? = nil
    ) {
        self.hostname = hostname
        self.kernel = kernel
        self.cpuModel = cpuModel
        self.cores = cores
        self.softwareVersion = softwareVersion
        self.realtimeStarts = realtimeStarts
    }

    /// Reads the facts of the machine this process runs on, with its ``Provenance`` when asked.
    package static func current(softwareVersion: String, provenance: Bool = false) -> HostFacts {
        var uts = utsname()
        uname(&uts)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        let cpu = CPUView.current()
        var facts = HostFacts(
            hostname: field(uts.nodename), kernel: "\(field(uts.sysname)) \(field(uts.release))",
            cpuModel: cpu.model, cores: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), softwareVersion: softwareVersion,
            realtimeStarts: MonotonicClock.realtimeStarts)
        facts.cpu = cpu
        facts.idle = IdlePolicy.current()
        if provenance { facts.provenance = Provenance.current() }
        return facts
    }
}

/// The version of this build of lockstep.
package enum LockstepVersion {
    /// This build's version string.
    package static let current = "0.1.0"
}
