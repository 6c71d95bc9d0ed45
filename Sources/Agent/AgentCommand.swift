import ArgumentParser
import Foundation
import Logging
import Observe
import ServiceLifecycle
import Shared

/// `lockstep-agent`: the daemon that runs on each lab machine.
@main
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lockstep-agent",
        abstract: "The lockstep agent: serves one coordinator, runs servers and load generators.",
        version: LockstepVersion.current,
        subcommands: [Serve.self, MeterCommand.self, ImageCommand.self, VMCommand.self, CorpusCommand.self])
}

extension AgentCommand {
    /// Runs a one-shot subcommand's `body`; its failure is one line `lockstep-agent: error: CODE: ...` and exit 1.
    static func reportingErrors(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as WireError {
            FileHandle.standardError.write(Data("lockstep-agent: error: \(error.code): \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// `lockstep-agent serve`.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve coordinator sessions until SIGTERM or SIGINT.")

    @Option(help: "Control address to listen on, HOST:PORT.")
    var listen: String

    @Option(help: "File holding the lab token (mode 0600).")
    var tokenFile: String

    @Option(help: "Name of this agent in logs and results.")
    var name: String = "agent"

    @Option(help: "Folder for the agent's event log (<name>.jsonl).")
    var logDir: String?

    @Option(help: "Seconds without word from the coordinator after which all load and servers stop.")
    var lease: Double = 3

    @Option(
        help:
            "State folder: the journal of placed guests, their logs and volumes (default: $TMPDIR/lockstep-agent-state)."
    )
    var stateDir: String?

    @Flag(help: "This agent is a guest another agent placed: it sweeps nothing at start.")
    var guest = false

    @Option(
        name: [.customLong("data-dir"), .customLong("mysql-volume-default")],
        help: "Data folder of a guest's storage (a container's volume, a VM's disk): MySQL's data, fio's file.")
    var dataDirectory: String?

    @Option(
        help: ArgumentHelp(
            "Serve Prometheus metrics at http://ADDR/metrics (HOST:PORT; bind 127.0.0.1 unless a scraper elsewhere needs it).",
            valueName: "addr"))
    var metrics: String?

    func validate() throws {
        guard Endpoint(parsing: listen) != nil else {
            throw ValidationError("--listen must be HOST:PORT, got '\(listen)'")
        }
        if let metrics, Endpoint(parsing: metrics) == nil {
            throw ValidationError("--metrics must be HOST:PORT, got '\(metrics)'")
        }
        guard lease > 0 else { throw ValidationError("--lease must be positive") }
    }

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: "lockstep-agent")
        logger[metadataKey: "agent.name"] = "\(name)"
        let token: Token
        do {
            token = try Token.load(path: tokenFile)
        } catch let error as WireError {
            throw ValidationError(error.message)
        }
        var config = AgentConfig(listen: Endpoint(parsing: listen)!, token: token, name: name)
        config.leaseNs = Int64(lease * 1e9)
        config.logDirectory = logDir
        config.tokenPath = URL(fileURLWithPath: tokenFile).standardizedFileURL.path
        config.stateDirectory = stateDir ?? AgentConfig.defaultStateDirectory
        config.isGuest = guest
        config.dataDirectory = dataDirectory
        let agentMetrics = metrics.map { _ in AgentMetrics(name: name) }
        if !guest {
            // What a killed host agent left (namespaces, links, nft tables, containers) goes first.
            let swept = PlacementJournal(directory: config.stateDirectory).sweep()
            for line in swept { logger.warning("\(line)") }
            agentMetrics?.swept(swept.count)
        }
        var endpoint: HTTPEndpoint?
        if let agentMetrics, let address = metrics.flatMap({ Endpoint(parsing: $0) }) {
            do {
                endpoint = try agentMetrics.serve(on: address)
                logger.info("metrics at http://\(endpoint!.address)/metrics")
            } catch {
                logger.error("cannot serve metrics on \(address): \(error)")
                throw ExitCode(1)
            }
        }
        defer { endpoint?.close() }
        let server = AgentServer(config: config, logger: logger, metrics: agentMetrics)
        let group = ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        do {
            try await group.run()
        } catch let error as WireError {
            logger.error("\(error.message)")
            throw ExitCode(1)
        }
    }
}
