import Foundation
import Shared
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The namespace lab of deploy/lab/netns-lab.sh, named after this process, removed at the end
/// (every namespace, link and process in it). Needs root.
final class NamespaceLab {
    let name: String
    let scratch = Scratch()
    let tokenPath: String
    /// The lab file `up` printed.
    let labFile: String
    var agents: [ChildProcess] = []
    /// Tests/IntegrationTests/Support/ -> the repository.
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("deploy/lab/netns-lab.sh").path

    /// The peers' namespace suffixes: `peer`, or `peer1` ... `peerN`.
    let peers: [String]

    /// `startAgents`: start agents in the SUT and peer namespaces directly (else deploy them over
    /// SSH); `peers`: how many peer machines (`netns-lab.sh up NAME --peers N`).
    init(prefix: String, startAgents: Bool, peers count: Int = 1) throws {
        name = "\(prefix)\(getpid() % 100_000)"
        peers = count == 1 ? ["peer"] : (1...count).map { "peer\($0)" }
        tokenPath = try scratch.token().path
        let up = try ChildProcess(
            Self.script, ["up", name] + (count == 1 ? [] : ["--peers", String(count)]), scratch: scratch,
            label: "lab-up")
        guard up.wait(seconds: 60) == 0 else { throw LabError(description: "lab up failed: \(up.stderr)") }
        labFile = String(up.stdout.split(separator: "\n").last ?? "")
        guard startAgents else { return }
        for (i, role) in (["sut"] + peers).enumerated() {
            let address = "198.18.0.\(2 + i):7470"
            agents.append(
                try ChildProcess(
                    Binaries.agent,
                    ["serve", "--listen", address, "--token-file", tokenPath, "--name", role],
                    prefix: ["/usr/sbin/ip", "netns", "exec", "\(name)-\(role)"], scratch: scratch,
                    label: "agent-\(role)"))
        }
        Thread.sleep(forTimeInterval: 1)
    }

    deinit {
        agents.forEach { $0.terminate(signal: SIGKILL) }
        let down = try? ChildProcess(Self.script, ["down", name], scratch: scratch, label: "lab-down")
        _ = down?.wait(seconds: 30)
    }

    /// `lockstep ARGS` in the control namespace.
    func inControl(_ arguments: [String], label: String) throws -> ChildProcess {
        try ChildProcess(
            Binaries.coordinator, arguments, prefix: ["/usr/sbin/ip", "netns", "exec", "\(name)-ctl"],
            scratch: scratch, label: label)
    }

    /// Processes running in one of the lab's namespaces (`sut`, `peer`, `ctl`), by command line.
    func processes(in namespace: String) -> [String] {
        guard
            let list = try? ChildProcess(
                "/usr/sbin/ip", ["netns", "pids", "\(name)-\(namespace)"], scratch: scratch, label: "pids"),
            list.wait(seconds: 10) == 0
        else { return [] }
        return list.stdout.split(separator: "\n").compactMap { pid in
            FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map {
                String(decoding: $0.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            }
        }
    }

    /// The `lockstep` CLI in the control namespace against the lab's agents, data over the test link.
    func coordinator(_ workload: String, _ extra: [String], out: String) throws -> ChildProcess {
        try ChildProcess(
            Binaries.coordinator,
            [
                workload, "--sut", "198.18.0.2:7470", "--peer", "198.18.0.3:7470", "--sut-data", "198.19.0.2",
                "--token-file", tokenPath, "--out", out,
            ] + extra,
            prefix: ["/usr/sbin/ip", "netns", "exec", "\(name)-ctl"], scratch: scratch, label: "coordinator")
    }

    func cutTestLink() throws {
        let cut = try ChildProcess(
            "/usr/sbin/ip", ["-n", "\(name)-sut", "link", "set", "\(name)-t", "down"], scratch: scratch,
            label: "cut")
        guard cut.wait(seconds: 10) == 0 else { throw LabError(description: "cut failed: \(cut.stderr)") }
    }

    struct LabError: Error, CustomStringConvertible { let description: String }
}
