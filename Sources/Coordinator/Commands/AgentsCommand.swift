import ArgumentParser
import Foundation
import Shared

/// `lockstep agents`: put agents on the lab's machines over SSH and manage them.
struct AgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "Deploy, check, stop and collect logs of the lab's agents over SSH.",
        subcommands: [Deploy.self, Status.self, Stop.self, Logs.self])

    /// The lab file and SSH policy every subcommand takes.
    struct LabOptions: ParsableArguments {
        @Option(help: "The lab file (YAML): hosts, SSH targets, control and data addresses.")
        var lab: String

        @Flag(help: "Record unknown host keys in known_hosts (OpenSSH's StrictHostKeyChecking=accept-new).")
        var acceptNew = false

        func load() throws -> LabFile { try LabFile.load(lab, acceptNew: acceptNew) }
    }

    struct Deploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload lockstep-agent and a fresh token to each host, start the agents, wait until they answer.")
        @OptionGroup var options: LabOptions
        @Option(help: "The agent binary to deploy (default: lockstep-agent beside this executable).")
        var agentBinary: String?

        @Flag(help: "Install and start the agent as a systemd service (lockstep-agent.service) instead of detached.")
        var systemd = false

        func run() async throws {
            try await CLI.reportingErrors {
                let deployer = AgentDeployer(
                    lab: try options.load(), agentBinary: agentBinary ?? LocalAgents.siblingAgentBinary(),
                    systemd: systemd)
                try await deployer.deploy()
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Each agent's uptime, version, host, clock offset and error, or that a run is in progress.")
        @OptionGroup var options: LabOptions

        func run() async throws {
            try await CLI.reportingErrors {
                let lab = try options.load()
                let token = try Token.load(path: lab.tokenFile)
                for line in await AgentDeployer(lab: lab, agentBinary: "").report(token: token) { print(line) }
            }
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the agents a deploy started.")
        @OptionGroup var options: LabOptions

        func run() async throws {
            try await CLI.reportingErrors { try await AgentDeployer(lab: try options.load(), agentBinary: "").stop() }
        }
    }

    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Copy each agent's event log and output here.")
        @OptionGroup var options: LabOptions
        @Option(help: "Folder for the logs (one subfolder per host).")
        var out: String = "lockstep-agent-logs"

        func run() async throws {
            try await CLI.reportingErrors {
                try await AgentDeployer(lab: try options.load(), agentBinary: "").fetchLogs(into: out)
            }
        }
    }
}
