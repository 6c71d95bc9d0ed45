import ArgumentParser
import Shared

/// `lockstep`: the coordinator CLI (its `main` is the LockstepCLI target's).
package struct LockstepCommand: AsyncParsableCommand {
    /// The command's name, version and subcommands.
    package static let configuration = CommandConfiguration(
        commandName: "lockstep",
        abstract: "Coordinated, clock-synchronized network benchmarks between a SUT and a peer agent.",
        version: LockstepVersion.current,
        subcommands: [
            QuickstartCommand.self, RRCommand.self, StreamCommand.self, RedisCommand.self, MySQLCommand.self,
            FioCommand.self, HpccCommand.self, CompressCommand.self,
            RunCommand.self,
            CheckCommand.self, ReportCommand.self, CompareCommand.self, HistoryCommand.self, RegressionsCommand.self,
            ExportCommand.self,
            AgentsCommand.self, LabCommand.self,
        ])

    /// The command before its arguments are parsed.
    package init() {}
}

extension LockstepCommand {
    /// The process's entry point: parses the command line and runs the command (async, as the
    /// workload commands are).
    package static func start() async { await main() }
}
