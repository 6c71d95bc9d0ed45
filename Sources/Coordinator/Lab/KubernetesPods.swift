import Foundation
import Shared

/// The agents a cluster runs, read from `kubectl get pods -o json` (a `List` of pods, or one pod):
/// pods labelled `app.kubernetes.io/name: lockstep-agent` whose `lockstep.io/role` is `sut` or
/// `peer` (as deploy/kubernetes's DaemonSets label them), running. Each becomes a lab host: named
/// after its node, its control address the pod's IP and the container port named `control`
/// (7470 without one), its data address the pod's `lockstep.io/data-address` annotation, else the
/// pod's IP (the node's own with host networking). No ssh: Kubernetes runs these agents.
enum KubernetesPods {
    struct Agent: Equatable {
        var name: String
        var role: Role
        var control: Endpoint
        var data: String
    }

    /// The agents in `json`, SUT first, then peers in name order; pods that are not lockstep agents,
    /// not running or without an IP are left out, each with a line in `skipped`.
    static func agents(from json: Data) throws -> (agents: [Agent], skipped: [String]) {
        guard let top = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw FileError(.labFile, "not JSON from `kubectl get pods -o json`")
        }
        let pods = (top["items"] as? [[String: Any]]) ?? (top["kind"] as? String == "Pod" ? [top] : [])
        var agents: [Agent] = []
        var skipped: [String] = []
        for pod in pods {
            let metadata = pod["metadata"] as? [String: Any] ?? [:]
            let podName = metadata["name"] as? String ?? "?"
            let labels = metadata["labels"] as? [String: String] ?? [:]
            guard labels["app.kubernetes.io/name"] == "lockstep-agent" else { continue }
            guard let roleText = labels["lockstep.io/role"], let role = Role(rawValue: roleText), role != .host else {
                skipped.append("\(podName): no lockstep.io/role label of sut or peer")
                continue
            }
            let spec = pod["spec"] as? [String: Any] ?? [:]
            let status = pod["status"] as? [String: Any] ?? [:]
            guard status["phase"] as? String == "Running", let ip = status["podIP"] as? String, !ip.isEmpty else {
                skipped.append("\(podName): not running (\(status["phase"] as? String ?? "no phase")) or no pod IP")
                continue
            }
            let ports = (spec["containers"] as? [[String: Any]] ?? []).flatMap {
                $0["ports"] as? [[String: Any]] ?? []
            }
            let port =
                ports.first { $0["name"] as? String == "control" && ($0["protocol"] as? String ?? "TCP") == "TCP" }?[
                    "containerPort"] as? Int ?? GuestPorts.defaultBase
            guard (1...65535).contains(port) else {
                skipped.append("\(podName): control port \(port) is not a port")
                continue
            }
            guard IPAddressText.isAddress(ip) else {
                skipped.append("\(podName): pod IP '\(ip)' is not an IP address")
                continue
            }
            let annotations = metadata["annotations"] as? [String: String] ?? [:]
            agents.append(
                Agent(
                    name: spec["nodeName"] as? String ?? podName, role: role, control: Endpoint(host: ip, port: port),
                    data: annotations["lockstep.io/data-address"] ?? ip))
        }
        // Two agents on one node (a SUT and a peer DaemonSet both there) are told apart by role.
        let names = Dictionary(grouping: agents, by: \.name)
        agents = agents.map { a in
            var a = a
            if (names[a.name]?.count ?? 0) > 1 { a.name += "-\(a.role.rawValue)" }
            return a
        }
        agents.sort { ($0.role == .sut ? 0 : 1, $0.name) < ($1.role == .sut ? 0 : 1, $1.name) }
        return (agents, skipped)
    }

    /// The lab file for `agents`: exactly one SUT and at least one peer, or the line saying what is missing.
    static func labFile(_ agents: [Agent], tokenFile: String, source: String) throws -> String {
        let suts = agents.filter { $0.role == .sut }
        guard suts.count == 1 else {
            throw FileError(
                .labFile,
                "\(source) has \(suts.count) running SUT agent(s) (label lockstep.io/role=sut): a lab needs exactly one"
            )
        }
        guard agents.contains(where: { $0.role == .peer }) else {
            throw FileError(.labFile, "\(source) has no running peer agent (label lockstep.io/role=peer)")
        }
        var text = """
            # lockstep lab made by `lockstep lab from-kubernetes` from \(source.oneLine): agents run by Kubernetes (no ssh).
            token_file: \(yamlQuoted(tokenFile))
            hosts:

            """
        for a in agents {
            text += """
                  - name: \(yamlQuoted(a.name))
                    role: \(a.role.rawValue)
                    control: \(yamlQuoted(a.control.description))
                    data: \(yamlQuoted(a.data))

                """
        }
        return text
    }

    /// `text` as a YAML double-quoted scalar: what a cluster names (a node, an annotation) reads back
    /// as itself whatever it holds (`#`, `: `, quotes, line breaks, any Unicode).
    static func yamlQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case " "..."~": out.unicodeScalars.append(scalar)
            default:
                let hex = String(scalar.value, radix: 16)
                out +=
                    scalar.value > 0xFFFF
                    ? "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
                    : "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return out + "\""
    }
}

/// Whether a text is an IP address literal.
enum IPAddressText {
    /// An IPv4 or IPv6 address (as `inet_pton` reads them), nothing else.
    static func isAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }
}
