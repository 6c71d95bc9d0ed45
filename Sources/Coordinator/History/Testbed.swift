import Crypto
import Foundation
import Shared

/// What a run ran on, as rows of facts per agent, and two fingerprints of them: the **testbed**
/// (the machines: each agent's role and name, CPU model, CPUs, NUMA nodes, memory, NIC drivers),
/// which keeps runs on different hardware in different series; and the **software** (kernel and
/// its command line, governors, SMT, NIC firmware, Docker, qemu, lockstep), which a series spans,
/// so an upgrade shows as the provenance rows that changed where the numbers moved.
struct Testbed: Equatable, Sendable {
    /// One fact of one agent's host.
    struct Row: Codable, Equatable, Hashable, Sendable {
        /// `role/name` of the agent (`sut/sut`, `peer/peer1`, `coordinator`).
        var agent: String
        var field: String
        var value: String
        /// Whether the row belongs to the testbed fingerprint (hardware) or the software one.
        var hardware: Bool
    }

    var rows: [Row]

    /// The hardware fingerprint: 12 hex digits of SHA-256 over the hardware rows.
    var fingerprint: String { Self.digest(rows.filter(\.hardware)) }
    /// The software fingerprint: 12 hex digits of SHA-256 over the other rows.
    var software: String { Self.digest(rows.filter { !$0.hardware }) }

    /// One line naming the testbed's machines (`sut: Intel(R) Xeon(R) ..., 2 CPUs; peer1: ...`).
    var summary: String {
        var out: [String] = []
        for agent in Set(rows.map(\.agent)).sorted() {
            let mine = rows.filter { $0.agent == agent }
            let model = mine.first { $0.field == "cpu_model" }?.value ?? "?"
            let cpus = mine.first { $0.field == "cpus" }?.value ?? "?"
            out.append("\(agent): \(model), \(cpus) CPUs")
        }
        return out.joined(separator: "; ")
    }

    /// The rows of a run's agents (the coordinator's own host is not part of the testbed).
    init(_ info: RunInfo) {
        var rows: [Row] = []
        for agent in info.agents.sorted(by: { ($0.role.rawValue, $0.name) < ($1.role.rawValue, $1.name) }) {
            let who = "\(agent.role.rawValue)/\(agent.name)"
            func add(_ field: String, _ value: String?, hardware: Bool) {
                guard let value, !value.isEmpty else { return }
                rows.append(Row(agent: who, field: field, value: value, hardware: hardware))
            }
            let host = agent.host
            add("cpu_model", host.cpuModel, hardware: true)
            add("cpus", String(host.cores), hardware: true)
            add("kernel", host.kernel, hardware: false)
            add("hostname", host.hostname, hardware: false)
            add("lockstep", agent.version, hardware: false)
            if let p = host.provenance {
                add("numa_nodes", String(p.numaNodes), hardware: true)
                // Rounded to GiB: the kernel's reserved memory moves MemTotal by a few MiB between boots.
                add("memory_gib", String(Int((Double(p.memoryBytes) / 1_073_741_824).rounded())), hardware: true)
                for nic in p.interfaces {
                    add("nic \(nic.name) driver", nic.driver, hardware: true)
                    add("nic \(nic.name) firmware", nic.firmware, hardware: false)
                }
                add("kernel_cmdline", p.kernelCommandLine, hardware: false)
                add("governors", p.governors.joined(separator: ","), hardware: false)
                add("smt_active", p.smtActive.map { String($0) }, hardware: false)
                add("docker", p.dockerVersion, hardware: false)
                add("qemu", p.qemuVersion, hardware: false)
            }
        }
        self.rows = rows
    }

    init(rows: [Row]) { self.rows = rows }

    /// The rows that differ from `earlier`'s: `agent field: old -> new` (`(none)` where absent).
    func changes(since earlier: Testbed) -> [String] {
        func table(_ rows: [Row]) -> [String: String] {
            Dictionary(rows.map { ("\($0.agent) \($0.field)", $0.value) }, uniquingKeysWith: { a, _ in a })
        }
        let before = table(earlier.rows)
        let after = table(rows)
        return Set(before.keys).union(after.keys).sorted().compactMap { key in
            before[key] == after[key] ? nil : "\(key): \(before[key] ?? "(none)") -> \(after[key] ?? "(none)")"
        }
    }

    private static func digest(_ rows: [Row]) -> String {
        let text = rows.map { "\($0.agent)\u{1}\($0.field)\u{1}\($0.value)" }.sorted().joined(separator: "\n")
        return SHA256.hash(data: Data(text.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
    }
}
