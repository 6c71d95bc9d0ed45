import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// Puts agents on the lab's machines over SSH and manages them there: upload, start detached,
/// check, stop, fetch logs. Each remote step is one SSH session on its own thread.
struct AgentDeployer {
    let lab: LabFile
    /// The `lockstep-agent` binary to upload.
    let agentBinary: String
    /// Install and start the agent as a systemd service instead of a detached process.
    var systemd = false
    var progress: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    /// Deploys and starts every agent; keeps agents that run this version and answer the lab's token.
    func deploy() async throws {
        if let token = try? Token.load(path: lab.tokenFile) {
            do {
                let running = try await status(token: token)
                if running.allSatisfy({ $0.version == LockstepVersion.current }) {
                    progress("agents already running version \(LockstepVersion.current): kept")
                    return
                }
            } catch let error as WireError where error.code == .busy {
                throw WireError(
                    .busy, "\(error.message): a run is in progress; let it finish or end it with `lockstep agents stop`"
                )
            } catch {
                // Not running, another version or another token: deploy afresh.
            }
        }
        guard FileManager.default.isExecutableFile(atPath: agentBinary),
            let binary = FileManager.default.contents(atPath: agentBinary)
        else { throw ResultsError("agent binary not found at \(agentBinary)") }
        let token = try Token.generate(at: lab.tokenFile)
        guard let tokenData = FileManager.default.contents(atPath: lab.tokenFile) else {
            throw WireError(.tokenFile, "cannot read back \(lab.tokenFile)")
        }
        let localArch = Self.localArchitecture()
        let systemd = systemd
        for host in lab.hosts {
            let target = try host.sshTarget()
            progress("\(host.name): deploying to \(target) (\(host.agentDir))")
            try await SSHSession.run(target) { ssh in
                let arch = try ssh.check("uname -m", what: "uname").trimmingCharacters(in: .whitespacesAndNewlines)
                guard arch == localArch else {
                    throw SSHError(
                        .remoteCommand,
                        "\(host.name) is \(arch) but this agent binary is \(localArch): build one for \(arch)")
                }
                let dir = Self.quote(host.agentDir)
                try ssh.check("mkdir -p \(dir)/logs && chmod 700 \(dir)", what: "creating \(host.agentDir)")
                try Self.stopRemote(ssh, host)
                try ssh.upload(binary, to: "\(host.agentDir)/lockstep-agent.new", mode: 0o755)
                try ssh.check(
                    "mv -f \(dir)/lockstep-agent.new \(dir)/lockstep-agent", what: "installing the agent binary")
                let version = try ssh.exec("\(dir)/lockstep-agent --version")
                guard version.status == 0 else {
                    let missing = Self.missingLibraries(version.stderr)
                    throw SSHError(
                        .remoteCommand,
                        missing.isEmpty
                            ? "the agent does not run on \(host.name): \(version.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
                            : "the agent does not run on \(host.name): missing shared libraries \(missing.joined(separator: ", ")) "
                                + "(deploy an agent built with --static-swift-stdlib)")
                }
                try ssh.upload(tokenData, to: "\(host.agentDir)/lab.token", mode: 0o600)
                let serve = [
                    "\(dir)/lockstep-agent", "serve", "--listen", host.control.description, "--token-file",
                    "\(dir)/lab.token", "--name", Self.quote(host.name), "--log-dir", "\(dir)/logs",
                ].joined(separator: " ")
                if systemd {
                    try Self.installService(ssh, host)
                    return
                }
                try ssh.check(
                    "cd \(dir) && { setsid nohup \(serve) >\(dir)/agent.out 2>&1 </dev/null & echo $! >\(dir)/agent.pid; } "
                        + "&& sleep 0.5 && { kill -0 $(cat \(dir)/agent.pid) 2>/dev/null || { tail -3 \(dir)/agent.out >&2; exit 1; }; }",
                    what: "starting the agent")
            }
        }
        let deadline = Date().addingTimeInterval(15)
        var lastError: Error?
        while Date() < deadline {
            do {
                let running = try await status(token: token)
                for agent in running {
                    progress("\(agent.name): running version \(agent.version) at \(agent.address)")
                }
                return
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        throw WireError(
            .unreachable, "the deployed agents did not answer within 15 s: \(lastError.map { "\($0)" } ?? "?")")
    }

    /// What one agent says about itself.
    struct AgentStatus: Sendable {
        var name: String
        var role: Role
        var address: Endpoint
        var version: String
        var hostname: String
        var offsetNs: Int64
        var errorNs: Int64
    }

    /// Connects to every agent with the lab's token: name, version, clock offset and its error.
    func status(token: Token) async throws -> [AgentStatus] {
        var out: [AgentStatus] = []
        for host in lab.hosts { out.append(try await probe(host, token: token)) }
        return out
    }

    /// One agent's authenticated hello and 8 clock probes, on a connection of its own.
    private func probe(_ host: LabFile.Host, token: Token) async throws -> AgentStatus {
        let session = LabSession(token: token, log: RunLog(runID: "status"))
        do {
            try await session.connect([(host.role, host.control)])
            let agent = session.agents[0]
            let clock = try await session.syncClock(agent, probes: 8)
            await session.close()
            return AgentStatus(
                name: agent.name, role: agent.link.role, address: agent.link.address, version: agent.version,
                hostname: agent.host.hostname, offsetNs: clock.offsetNs, errorNs: clock.errorNs)
        } catch {
            await session.close()
            throw error
        }
    }

    /// One line per host: whether its agent runs and for how long (over SSH), its version and
    /// clock offset (over the control connection), or that it is busy with a run.
    func report(token: Token) async -> [String] {
        var lines: [String] = []
        for host in lab.hosts {
            var parts = ["\(host.name) (\(host.role.rawValue)) at \(host.control)"]
            do {
                let dir = Self.quote(host.agentDir)
                guard let target = host.ssh else { throw FileError(.labFile, "run by other means (no ssh)") }
                let seconds = try await SSHSession.run(target) { ssh in
                    try ssh.exec("p=$(cat \(dir)/agent.pid 2>/dev/null) && ps -o etimes= -p $p").stdout
                        .trimmingCharacters(in: .whitespacesAndNewlines)
                }
                parts.append(Int(seconds).map { "up \(Self.duration($0))" } ?? "not running (no live agent.pid)")
            } catch {
                parts.append("ssh: \(error)")
            }
            do {
                let agent = try await probe(host, token: token)
                parts.append(
                    "version \(agent.version), host \(agent.hostname), idle, "
                        + String(
                            format: "clock offset %.3f ms ± %.3f ms", Double(agent.offsetNs) / 1e6,
                            Double(agent.errorNs) / 1e6))
            } catch let error as WireError where error.code == .busy {
                parts.append("busy: serving another coordinator (a run is in progress)")
            } catch {
                parts.append("\(error)")
            }
            lines.append(parts.joined(separator: ", "))
        }
        return lines
    }

    private static func duration(_ seconds: Int) -> String {
        seconds < 120 ? "\(seconds) s" : seconds < 7200 ? "\(seconds / 60) min" : "\(seconds / 3600) h"
    }

    /// Stops every agent the lab file names.
    func stop() async throws {
        for host in lab.hosts {
            try await SSHSession.run(try host.sshTarget()) { ssh in try Self.stopRemote(ssh, host) }
            progress("\(host.name): stopped")
        }
    }

    /// Copies each agent's event log and output into `folder/<name>/`.
    func fetchLogs(into folder: String) async throws {
        for host in lab.hosts {
            let files = try await SSHSession.run(try host.sshTarget()) { ssh -> [String: Data] in
                var files: [String: Data] = [:]
                let listing = try ssh.exec("ls \(Self.quote(host.agentDir))/logs")
                for name in listing.stdout.split(separator: "\n") where name.hasSuffix(".jsonl") {
                    files[String(name)] = try ssh.download("\(host.agentDir)/logs/\(name)")
                }
                if let out = try? ssh.download("\(host.agentDir)/agent.out") { files["agent.out"] = out }
                return files
            }
            let dir = "\(folder)/\(host.name)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for (name, data) in files { try data.write(to: URL(fileURLWithPath: "\(dir)/\(name)")) }
            progress("\(host.name): \(files.count) file(s) into \(dir)")
        }
    }

    /// The systemd unit `--systemd` installs (``SystemdUnit``: as `deploy/systemd/lockstep-agent.service`,
    /// with this host's paths, address and name).
    static func serviceUnit(_ host: LabFile.Host) -> String {
        SystemdUnit.text(
            comment: "# Installed by `lockstep agents deploy --systemd` for lab host \(host.name).",
            description: "lockstep load-generation agent (\(host.name))", binary: "\(host.agentDir)/lockstep-agent",
            listen: host.control.description, token: "\(host.agentDir)/lab.token", name: host.name,
            logDir: "\(host.agentDir)/logs", stateDir: "\(host.agentDir)/state", writable: host.agentDir,
            metrics: "\(host.control.host):\(metricsPort)")
    }

    static let serviceName = "lockstep-agent.service"
    /// The port of an installed agent's `/metrics` (on its control address).
    static let metricsPort = 9470

    private static func installService(_ ssh: SSHSession, _ host: LabFile.Host) throws {
        try ssh.upload(Data(serviceUnit(host).utf8), to: "/etc/systemd/system/\(serviceName)", mode: 0o644)
        try ssh.check(
            "systemctl daemon-reload && systemctl enable \(serviceName) && systemctl restart \(serviceName)",
            what: "starting the agent with systemd")
    }

    /// Stops the agent a previous deploy started there (by its pid file, or its systemd service),
    /// waiting until it is gone.
    private static func stopRemote(_ ssh: SSHSession, _ host: LabFile.Host) throws {
        try ssh.check(
            "if [ -f /etc/systemd/system/\(serviceName) ] && grep -q \(quote(host.agentDir)) /etc/systemd/system/\(serviceName); "
                + "then systemctl disable --now \(serviceName) >/dev/null 2>&1; rm -f /etc/systemd/system/\(serviceName); "
                + "systemctl daemon-reload >/dev/null 2>&1; fi; true",
            what: "stopping the agent's service")
        // By its pid file, and any other agent serving from this folder (a deploy that was cut short).
        let dir = quote(host.agentDir)
        try ssh.check(
            "p=\"$(cat \(dir)/agent.pid 2>/dev/null) $(pgrep -f \(quote("^" + host.agentDir + "/lockstep-agent serve"))))\"; "
                + "for q in $p; do kill $q 2>/dev/null; done; "
                + "for i in $(seq 50); do alive=; for q in $p; do kill -0 $q 2>/dev/null && alive=1; done; "
                + "[ -z \"$alive\" ] && break; sleep 0.1; done; "
                + "for q in $p; do kill -9 $q 2>/dev/null; done; rm -f \(dir)/agent.pid; true",
            what: "stopping the agent")
    }

    static func localArchitecture() -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// Library names from a dynamic loader's "error while loading shared libraries: X: ..." lines.
    static func missingLibraries(_ stderr: String) -> [String] {
        stderr.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "error while loading shared libraries: ") else { return nil }
            return line[range.upperBound...].split(separator: ":").first.map(String.init)
        }
    }

    /// `text` single-quoted for a POSIX shell.
    static func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
