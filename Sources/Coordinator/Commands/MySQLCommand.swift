import ArgumentParser
import Crypto
import Foundation
import Shared

/// `lockstep mysql`: the paper's MySQL sweep. The SUT agent runs MariaDB/MySQL (or points at one
/// already running) with sysbench's tables, the peer runs sysbench's OLTP transaction on more and
/// more threads, one connection each; one step per thread count.
struct MySQLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mysql",
        abstract: "MySQL OLTP transactions per second and latency as client threads grow (MariaDB/MySQL on the SUT).")

    @OptionGroup var agents: AgentOptions
    @OptionGroup var options: MySQLOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var observe: ObserveOptions

    func validate() throws { try output.requireDirectory() }

    func run() async throws { try await CLI.runWorkloads(options, agents: agents, output: output, observe: observe) }
}

/// `mysql`'s own options, with timing and placement: what the command line and a plan's `mysql` experiment set.
struct MySQLOptions: WorkloadOptions {
    static let name = "mysql"

    @Option(help: "Thread counts of the sweep, comma-separated; one step each (one connection per thread).")
    var threads: CommaList<Int> = CommaList([1, 2, 4, 8, 16, 32, 64])

    @Option(help: "Transaction: read-write (oltp_read_write) or read-only (oltp_read_only).")
    var transaction: MySQLMode = .readWrite

    @Option(help: "Tables sbtest1...sbtestN.")
    var tables: Int = 1

    @Option(help: "Rows per table.")
    var tableSize: Int = 100_000

    @Option(help: "Row id distribution: uniform, or special (sysbench 1.0's default: 75% of draws on 1% of the ids).")
    var distribution: MySQLDistribution = .uniform

    @Flag(help: "Send text queries instead of server-side prepared statements.")
    var noPreparedStatements = false

    @Flag(help: "Drop and load the tables again even if they already hold the rows.")
    var recreate = false

    @Option(help: "Seed of the id and value sequence.")
    var seed: UInt64 = 1

    @Option(help: "Database name.")
    var database: String = "sbtest"

    @Option(help: "Use this running server (HOST:PORT as the agents see it) instead of starting one on the SUT.")
    var mysql: Endpoint?

    @Option(help: "User to log in as (a started server gets this user).")
    var user: String = "sbtest"

    @Option(help: "File holding the password of --user on a running server (a started server gets a random one).")
    var passwordFile: String?

    @Option(help: "Server binary the SUT agent starts (default: mariadbd, else mysqld, on its PATH).")
    var mysqlServer: String?

    @Option(help: "Folder on the SUT where the started server's data directory is created (default: its temp dir).")
    var mysqlVolume: String?

    @Option(help: "Port of the started server (default: a free port).")
    var mysqlPort: Int?

    @Option(help: "CPU the started server is pinned to (another spelling of --sut-cpus N).")
    var mysqlCpu: Int?

    @Option(help: "innodb_buffer_pool_size of the started server, MiB.")
    var bufferPool: Int = 1024

    @Option(help: "innodb_flush_log_at_trx_commit of the started server (0, 1 or 2).")
    var flushLogAtTrxCommit: Int = 1

    @Option(help: "innodb_flush_method of the started server (O_DIRECT falls back to fsync where refused).")
    var flushMethod: String = "O_DIRECT"

    @Option(
        help:
            "Open loop: transactions started per second over all threads, each at its intended time and timed from it (500, 2k); a comma-separated list sweeps them, stopping where the server saturates. Default: closed loop."
    )
    var rate: CommaList<RateArgument>?

    @OptionGroup var timing: TimingOptions

    @OptionGroup var placement: PlacementOptions

    /// The placement; `--mysql-cpu N` is `--sut-cpus N`.
    func sutPlacement() throws -> Placement { try placement.placement(serverCPU: mysqlCpu, spelled: "--mysql-cpu") }

    func validate() throws {
        _ = try sutPlacement()
        if mysql != nil
            && (mysqlServer != nil || mysqlVolume != nil || mysqlPort != nil || mysqlCpu != nil
                || placement.sutCpus != nil)
        {
            throw ValidationError(
                "--mysql targets a running server: --mysql-server, --mysql-volume, --mysql-port and --mysql-cpu do not apply"
            )
        }
        if mysql == nil && passwordFile != nil {
            throw ValidationError("--password-file is for a running server (--mysql); a started server gets its own")
        }
        for spec in try makeSpecs(password: "checked-later") {
            if let problem = spec.problems().first { throw ValidationError(problem) }
        }
    }

    func makeSpecs(password: String) throws -> [MySQLSpec] {
        let counts = threads.values
        let server = MySQLServerSpec(
            external: mysql, binary: mysqlServer, volume: mysqlVolume, port: mysqlPort,
            bufferPoolMiB: bufferPool, flushLogAtTrxCommit: flushLogAtTrxCommit, flushMethod: flushMethod)
        return RateArgument.expand(
            counts.map {
                MySQLSpec(
                    threads: $0, mode: transaction, tables: tables, tableSize: tableSize, distribution: distribution,
                    preparedStatements: !noPreparedStatements, recreate: recreate, seed: seed, database: database,
                    user: user, password: password, server: server)
            }, rate)
    }

    /// The password: read from `--password-file` for a running server, made up for a started one.
    func password() throws -> String {
        guard let passwordFile else { return randomPassword() }
        let text: String
        do { text = try SmallFile.text(passwordFile, limit: 4096) } catch {
            throw WireError(.badStep, "--password-file: \(error)")
        }
        return String(text.trimmingCharacters(in: .newlines))
    }

    /// One workload per thread count; the password is read (or made up) here.
    func workloads() throws -> [Workload] { try makeSpecs(password: try password()).map { Workload($0) } }

    func placements() throws -> [Placement] {
        try placement.placements(serverCPU: mysqlCpu, spelled: "--mysql-cpu")
    }
}

/// A password for a server the SUT agent starts: 128 random bits in hex.
func randomPassword() -> String {
    SymmetricKey(size: .bits128).withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
}

extension MySQLMode: ExpressibleByArgument {}
extension MySQLDistribution: ExpressibleByArgument {}
