import Foundation
import Shared
import Yams

/// A lab file (YAML): the lab machines, how to reach them over SSH, their control and data
/// addresses and where their agents live. Written by `deploy/lab/netns-lab.sh` for the namespace
/// lab, by hand for real machines.
///
/// ```yaml
/// known_hosts: ~/.ssh/known_hosts      # host keys checked against this (OpenSSH format)
/// token_file: lab.token                 # the lab secret; `agents deploy` writes a fresh one
/// hosts:
///   - name: sut
///     role: sut                         # sut (exactly one) | peer (any number: the workloads with a load generator need one)
///     ssh: root@192.0.2.10:22           # user@host[:port]; optional (an agent run by other means)
///     identity: ~/.ssh/id_ed25519       # optional: else ssh-agent
///     passphrase_file: key.pass         # optional: the identity's passphrase
///     control: 192.0.2.10:7470          # the agent's control address
///     data: 198.18.1.2                  # the test-network address
///     agent_dir: /opt/lockstep          # where the agent binary, token and logs live
/// ```
struct LabFile: Sendable {
    struct Host: Sendable {
        var name: String
        var role: Role
        /// How lockstep reaches the machine to deploy its agent; `nil` when something else runs the
        /// agent (a Kubernetes DaemonSet, a unit installed by hand): workload commands still work,
        /// `agents deploy|stop|logs` do not.
        var ssh: SSHTarget?
        var control: Endpoint
        var data: String
        /// Where the deployed agent lives (with `ssh`).
        var agentDir: String

        /// The SSH target, or the error saying this host's agent is not lockstep's to manage.
        func sshTarget() throws -> SSHTarget {
            guard let ssh else {
                throw FileError(
                    .labFile,
                    "lab host \(name) has no ssh: its agent runs by other means (a DaemonSet, a unit); "
                        + "agents deploy, stop and logs need ssh and agent_dir")
            }
            return ssh
        }
    }

    var knownHosts: String
    var tokenFile: String
    var hosts: [Host]

    /// The (first) host playing `role`.
    func host(_ role: Role) -> Host { hosts.first { $0.role == role }! }

    /// Every host playing `role`, in the file's order (a lab may have several peers).
    func hosts(_ role: Role) -> [Host] { hosts.filter { $0.role == role } }

    /// Reads and checks a lab file; every problem is one line with the file, line and column.
    static func load(_ path: String, acceptNew: Bool = false) throws -> LabFile {
        let file = YAMLReader(path: path, code: .labFile)
        return try parse(file, root: try file.root(), acceptNew: acceptNew)
    }

    /// Reads and checks `text` as the lab file at `path` (see ``load(_:acceptNew:)``; the path names
    /// the file in errors and anchors its relative paths).
    static func parse(_ text: String, path: String) throws -> LabFile {
        let file = YAMLReader(path: path, code: .labFile)
        return try parse(file, root: try file.root(text), acceptNew: false)
    }

    private static func parse(_ file: YAMLReader, root node: Node, acceptNew: Bool) throws -> LabFile {
        let path = file.path
        let top = try file.mapping(node, "the lab", keys: ["known_hosts", "token_file", "hosts"])
        let knownHosts = try file.path(top, "known_hosts", in: node, default: "~/.ssh/known_hosts")
        let tokenFile = try file.path(top, "token_file", in: node, default: "lab.token")
        guard let hostsNode = top["hosts"], let list = hostsNode.sequence else {
            throw file.error(node, "`hosts` must be a list of the lab's machines")
        }
        var hosts: [Host] = []
        for item in list {
            let h = try file.mapping(
                item, "a host",
                keys: ["name", "role", "ssh", "identity", "passphrase_file", "control", "data", "agent_dir"])
            let name = try file.string(h, "name", in: item)
            let roleText = try file.string(h, "role", in: item)
            guard let role = Role(rawValue: roleText), role != .host else {
                throw file.error(h["role"]!, "role must be sut or peer, got '\(roleText)'")
            }
            let identity = try h["identity"].map { _ in try file.path(h, "identity", in: item, default: "") }
            var ssh: SSHTarget?
            if h["ssh"] != nil {
                let sshText = try file.string(h, "ssh", in: item)
                guard var target = SSHTarget(sshText, identity: identity, knownHosts: knownHosts) else {
                    throw file.error(h["ssh"]!, "ssh must be user@host[:port], got '\(sshText)'")
                }
                target.acceptNew = acceptNew
                if h["passphrase_file"] != nil {
                    let passphraseFile = try file.path(h, "passphrase_file", in: item, default: "")
                    let text: String
                    do { text = try SmallFile.text(passphraseFile, limit: 4096) } catch {
                        throw FileError(.labFile, "\(path): passphrase file: \(error)")
                    }
                    target.passphrase = text.trimmingCharacters(in: .newlines)
                }
                ssh = target
            }
            let controlText = try file.string(h, "control", in: item)
            guard let control = Endpoint(parsing: controlText) else {
                throw file.error(h["control"]!, "control must be HOST:PORT, got '\(controlText)'")
            }
            hosts.append(
                Host(
                    name: name, role: role, ssh: ssh, control: control, data: try file.string(h, "data", in: item),
                    agentDir: ssh == nil && h["agent_dir"] == nil ? "" : try file.string(h, "agent_dir", in: item)))
        }
        if hosts.filter({ $0.role == .sut }).count != 1 {
            throw file.error(hostsNode, "the lab needs exactly one host with role sut")
        }
        var names = Set<String>()
        for (host, item) in zip(hosts, list) where !names.insert(host.name).inserted {
            throw file.error(item, "two hosts are named \(host.name)")
        }
        return LabFile(knownHosts: knownHosts, tokenFile: tokenFile, hosts: hosts)
    }
}
