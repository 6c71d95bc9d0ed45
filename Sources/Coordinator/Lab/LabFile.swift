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
///     role: sut                         # sut | peer
///     ssh: root@192.0.2.10:22           # user@host[:port]
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
        var ssh: SSHTarget
        var control: Endpoint
        var data: String
        var agentDir: String
    }

    var knownHosts: String
    var tokenFile: String
    var hosts: [Host]

    /// The host playing `role`.
    func host(_ role: Role) -> Host { hosts.first { $0.role == role }! }

    /// Reads and checks a lab file; every problem is one line with the file, line and column.
    static func load(_ path: String, acceptNew: Bool = false) throws -> LabFile {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw WireError(.labFile, "cannot read lab file \(path)")
        }
        let file = YAMLReader(path: path, code: .labFile)
        let node = try file.root(text)
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
            let sshText = try file.string(h, "ssh", in: item)
            guard var ssh = SSHTarget(sshText, identity: identity, knownHosts: knownHosts) else {
                throw file.error(h["ssh"]!, "ssh must be user@host[:port], got '\(sshText)'")
            }
            ssh.acceptNew = acceptNew
            if h["passphrase_file"] != nil {
                let passphraseFile = try file.path(h, "passphrase_file", in: item, default: "")
                guard let text = try? String(contentsOfFile: passphraseFile, encoding: .utf8) else {
                    throw WireError(.labFile, "\(path): cannot read passphrase file \(passphraseFile)")
                }
                ssh.passphrase = text.trimmingCharacters(in: .newlines)
            }
            let controlText = try file.string(h, "control", in: item)
            guard let control = Endpoint(parsing: controlText) else {
                throw file.error(h["control"]!, "control must be HOST:PORT, got '\(controlText)'")
            }
            hosts.append(
                Host(
                    name: name, role: role, ssh: ssh, control: control, data: try file.string(h, "data", in: item),
                    agentDir: try file.string(h, "agent_dir", in: item)))
        }
        for role in [Role.sut, .peer] where hosts.filter({ $0.role == role }).count != 1 {
            throw file.error(hostsNode, "the lab needs exactly one host with role \(role.rawValue)")
        }
        return LabFile(knownHosts: knownHosts, tokenFile: tokenFile, hosts: hosts)
    }
}
