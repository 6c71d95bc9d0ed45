import Foundation
import Shared
import TestSupport
import Testing
import Yams

@testable import Agent
@testable import Coordinator

/// What lab operators install: the systemd unit, the container image file, the Kubernetes manifests,
/// and the lab file made from a cluster's pods. Checked against the code that uses them.
@Suite struct DeployFilesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func file(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// The shipped unit, as the code that installs one writes it.
    static let shippedUnit = SystemdUnit.text(
        comment: """
            # lockstep agent as a systemd service. Install the binary as /usr/local/bin/lockstep-agent, put the
            # lab token in /etc/lockstep/token (mode 0600, owned by root), then:
            #   systemctl daemon-reload && systemctl enable --now lockstep-agent
            # Set the control address with `systemctl edit lockstep-agent` (Environment=LOCKSTEP_LISTEN=...);
            # Prometheus metrics are served on LOCKSTEP_METRICS (http://127.0.0.1:9470/metrics by default).
            """,
        description: "lockstep load-generation agent", binary: "/usr/local/bin/lockstep-agent",
        listen: "${LOCKSTEP_LISTEN}", token: "/etc/lockstep/token", name: "${LOCKSTEP_NAME}",
        logDir: "/var/log/lockstep", stateDir: "/var/lib/lockstep", writable: "/var/lib/lockstep /var/log/lockstep",
        metrics: "${LOCKSTEP_METRICS}",
        environment: ["LOCKSTEP_LISTEN=0.0.0.0:7470", "LOCKSTEP_NAME=%H", "LOCKSTEP_METRICS=127.0.0.1:9470"],
        directories: [
            "# systemd makes /var/lib/lockstep and /var/log/lockstep (0700) before the start.",
            "StateDirectory=lockstep", "StateDirectoryMode=0700", "LogsDirectory=lockstep",
        ])

    @Test func theShippedUnitIsTheOneTheDeployerWritesAndItIsHardened() throws {
        let shipped = try Self.file("deploy/systemd/lockstep-agent.service")
        if shipped != Self.shippedUnit {
            try? Self.shippedUnit.write(
                toFile: "/tmp/lockstep-agent.service.expected", atomically: true, encoding: .utf8)
        }
        #expect(shipped == Self.shippedUnit, "see /tmp/lockstep-agent.service.expected")
        for directive in ["NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "CapabilityBoundingSet="] {
            #expect(shipped.contains(directive))
        }
        // The deployer's unit has the same hardening, with this host's folders writable.
        let host = LabFile.Host(
            name: "sut", role: .sut, ssh: SSHTarget("root@192.0.2.1", identity: nil, knownHosts: "/dev/null")!,
            control: Endpoint(host: "192.0.2.1", port: 7470), data: "198.18.1.2", agentDir: "/opt/lockstep")
        let unit = AgentDeployer.serviceUnit(host)
        #expect(unit.contains("ReadWritePaths=/opt/lockstep -/run/netns"))
        #expect(unit.contains("--state-dir /opt/lockstep/state"))
        #expect(unit.contains("--metrics 192.0.2.1:9470"))
        #expect(unit.contains("CapabilityBoundingSet=CAP_NET_ADMIN CAP_SYS_ADMIN CAP_SYS_NICE CAP_PERFMON"))
    }

    @Test func theShippedContainerfileIsTheOneImageBuildWrites() throws {
        #expect(try Self.file("deploy/container/Containerfile") == ContainerImage.file + "\n")
        #expect(ContainerImage.file.contains("FROM scratch"))
        #expect(Docker.defaultImage == "lockstep-agent:\(LockstepVersion.current)")
    }

    static let manifests = ["namespace.yaml", "secret.yaml", "agents-hostnetwork.yaml", "agents-podnetwork.yaml"]

    @Test func everyManifestValidatesAgainstTheKubernetesSchemasOffline() throws {
        let scratch = Scratch()
        let paths = Self.manifests.map { Self.root.appendingPathComponent("deploy/kubernetes/\($0)").path }
        // The module, run by the same python3 that pip installed it for (no PATH games).
        guard let python = Executable.find("python3") else {
            Issue.record("python3 is missing")
            return
        }
        let probe = try ChildProcess(
            python, ["-m", "kubernetes_validate", "--version"], scratch: scratch, label: "probe")
        guard probe.wait(seconds: 60) == 0 else {
            Issue.record(
                "kubernetes-validate is missing: pip install kubernetes-validate (scripts/install-deps.sh does)")
            return
        }
        let run = try ChildProcess(
            python, ["-m", "kubernetes_validate", "--strict"] + paths, scratch: scratch, label: "validate")
        #expect(run.wait(seconds: 120) == 0, "\(run.stdout) \(run.stderr)")
        // Every resource of every file passed.
        #expect(run.stdout.components(separatedBy: " passed ").count - 1 == 6, "\(run.stdout)")
    }

    /// The documents of a manifest file.
    static func documents(_ name: String) throws -> [[String: Any]] {
        try Yams.load_all(yaml: try file("deploy/kubernetes/\(name)")).compactMap { $0 as? [String: Any] }
    }

    @Test func theDaemonSetsAgreeWithTheAgentsOptionsTheImageAndTheSecret() throws {
        let secret = try #require(try Self.documents("secret.yaml").first)
        let secretName = try #require((secret["metadata"] as? [String: Any])?["name"] as? String)
        let secretKey = try #require((secret["stringData"] as? [String: Any])?.keys.first)
        for (name, hostNetwork) in [("agents-hostnetwork.yaml", true), ("agents-podnetwork.yaml", false)] {
            let sets = try Self.documents(name)
            #expect(sets.count == 2 && sets.allSatisfy { $0["kind"] as? String == "DaemonSet" }, "\(name)")
            var roles: [String] = []
            for set in sets {
                let template = try #require((set["spec"] as? [String: Any])?["template"] as? [String: Any])
                let spec = try #require(template["spec"] as? [String: Any])
                let labels = try #require((template["metadata"] as? [String: Any])?["labels"] as? [String: Any])
                let role = try #require(labels["lockstep.io/role"] as? String)
                roles.append(role)
                #expect(labels["app.kubernetes.io/name"] as? String == "lockstep-agent")
                #expect((spec["nodeSelector"] as? [String: Any])?["lockstep.io/role"] as? String == role)
                #expect((spec["hostNetwork"] as? Bool ?? false) == hostNetwork, "\(name)")
                let container = try #require((spec["containers"] as? [[String: Any]])?.first)
                #expect(container["image"] as? String == Docker.defaultImage)
                #expect(container["command"] as? [String] == ["/lockstep-agent"])
                let args = try #require(container["args"] as? [String])
                // The agent's own parser takes the arguments, with the downward API's values filled in.
                let filled = args.map {
                    $0.replacingOccurrences(of: "$(POD_IP)", with: "10.0.0.5")
                        .replacingOccurrences(of: "$(NODE_NAME)", with: "node-a")
                }
                #expect(filled.first == "serve")
                let serve = try Serve.parse(Array(filled.dropFirst()))
                let ports = try #require(container["ports"] as? [[String: Any]])
                let control = ports.first { $0["name"] as? String == "control" }?["containerPort"] as? Int
                #expect(control == Endpoint(parsing: serve.listen)?.port)
                #expect(control == GuestPorts.defaultBase)
                #expect(ports.contains { $0["protocol"] as? String == "UDP" && $0["containerPort"] as? Int == control })
                // /metrics: the agent serves it on the port named `metrics`, which the scrape annotation names.
                let metricsPort = ports.first { $0["name"] as? String == "metrics" }?["containerPort"] as? Int
                #expect(metricsPort != nil && metricsPort == serve.metrics.flatMap { Endpoint(parsing: $0) }?.port)
                let annotations = (template["metadata"] as? [String: Any])?["annotations"] as? [String: Any]
                #expect(annotations?["prometheus.io/scrape"] as? String == "true")
                #expect(annotations?["prometheus.io/port"] as? String == metricsPort.map(String.init))
                // The token file is the Secret's key where the Secret is mounted.
                let volumes = try #require(spec["volumes"] as? [[String: Any]])
                let tokenVolume = try #require(
                    volumes.first { ($0["secret"] as? [String: Any])?["secretName"] as? String == secretName })
                let mounts = try #require(container["volumeMounts"] as? [[String: Any]])
                let mount = try #require(mounts.first { $0["name"] as? String == tokenVolume["name"] as? String })
                #expect(serve.tokenFile == "\(mount["mountPath"] as? String ?? "")/\(secretKey)")
                // Requests reserve CPUs; no CPU limit (a CFS quota would throttle the load).
                let resources = try #require(container["resources"] as? [String: Any])
                #expect((resources["requests"] as? [String: Any])?["cpu"] != nil)
                #expect((resources["limits"] as? [String: Any])?["cpu"] == nil)
            }
            #expect(Set(roles) == ["sut", "peer"])
        }
    }

    static let pods = root.appendingPathComponent("Tests/IntegrationTests/Fixtures/pods.json").path

    @Test func aLabFileFromRecordedPodsNamesTheRunningAgents() throws {
        let scratch = Scratch()
        let out = scratch.path + "/lab.yaml"
        let run = try ChildProcess(
            Binaries.coordinator, ["lab", "from-kubernetes", Self.pods, "--out", out, "--token-file", "lab.token"],
            scratch: scratch, label: "from-kubernetes")
        #expect(run.wait(seconds: 30) == 0, "\(run.stderr)")
        #expect(run.stderr.contains("lockstep-agent-peer-hostnet-zz8qw: not running (Pending)"), "\(run.stderr)")
        let lab = try LabFile.load(out)
        #expect(lab.tokenFile == scratch.path + "/lab.token")
        #expect(lab.hosts.map(\.name) == ["node-a", "node-b", "node-c"])
        #expect(lab.host(.sut).control == Endpoint(host: "10.20.0.11", port: 7470))
        #expect(lab.host(.sut).data == "198.19.0.2")
        #expect(lab.hosts(.peer).map(\.data) == ["10.20.0.12", "10.20.0.13"])
        #expect(lab.hosts.allSatisfy { $0.ssh == nil })
        // A workload command takes it: both peers are agents of the run (resolution only, nothing runs).
        let options = try AgentOptions.parse(["--lab", out])
        #expect(try options.resolve().peers.count == 2)
        // The agents are not lockstep's to deploy: one line saying so.
        let deploy = try ChildProcess(
            Binaries.coordinator, ["agents", "deploy", "--lab", out], scratch: scratch, label: "deploy")
        #expect(deploy.wait(seconds: 30) == 1)
        #expect(deploy.stderr.contains("has no ssh"), "\(deploy.stderr)")
    }

    @Test func podsWithoutARunningSUTAreOneLine() throws {
        let scratch = Scratch()
        var json = try String(contentsOfFile: Self.pods, encoding: .utf8)
        json = json.replacingOccurrences(of: "\"lockstep.io/role\": \"sut\"", with: "\"lockstep.io/role\": \"peer\"")
        try json.write(toFile: scratch.path + "/pods.json", atomically: true, encoding: .utf8)
        let run = try ChildProcess(
            Binaries.coordinator,
            ["lab", "from-kubernetes", scratch.path + "/pods.json", "--out", scratch.path + "/l.yaml"],
            scratch: scratch, label: "no-sut")
        #expect(run.wait(seconds: 30) == 1)
        #expect(run.stderr.contains("0 running SUT agent(s)"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/l.yaml"))
    }
}
