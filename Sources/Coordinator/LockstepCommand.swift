import ArgumentParser
import Shared

/// `lockstep`: the coordinator CLI.
@main
struct LockstepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lockstep",
        abstract: "Coordinated, clock-synchronized network benchmarks between a SUT and a peer agent.",
        version: LockstepVersion.current,
        subcommands: [
            QuickstartCommand.self, RRCommand.self, StreamCommand.self, RedisCommand.self, MySQLCommand.self,
            FioCommand.self, HpccCommand.self, CompressCommand.self,
            RunCommand.self,
            ReportCommand.self, CompareCommand.self, HistoryCommand.self, RegressionsCommand.self, ExportCommand.self,
            AgentsCommand.self, LabCommand.self,
        ])
}
