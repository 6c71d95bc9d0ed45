/// Where the SUT's MySQL server comes from, and how a started one is configured.
package struct MySQLServerSpec: Codable, Equatable, Sendable {
    /// A server that is already running: the SUT agent starts and stops nothing.
    package var external: Endpoint?
    /// The server binary the SUT agent starts (`mariadbd`, `mysqld`); `nil` looks for `mariadbd`,
    /// then `mysqld`, on the agent's PATH.
    package var binary: String?
    /// The folder (the paper's volume) where the started server's data directory is created;
    /// `nil`: the agent's temporary directory.
    package var volume: String?
    /// The port of the started server; `nil` picks a free one.
    package var port: Int?
    /// `innodb_buffer_pool_size` in MiB.
    package var bufferPoolMiB: Int
    /// `innodb_flush_log_at_trx_commit` (0, 1 or 2).
    package var flushLogAtTrxCommit: Int
    /// `innodb_flush_method`; `O_DIRECT` falls back to `fsync` where the volume refuses it.
    package var flushMethod: String

    package init(
        external: Endpoint? = nil, binary: String? = nil, volume: String? = nil, port: Int? = nil,
        bufferPoolMiB: Int = 1024, flushLogAtTrxCommit: Int = 1, flushMethod: String = "O_DIRECT"
    ) {
        self.external = external
        self.binary = binary
        self.volume = volume
        self.port = port
        self.bufferPoolMiB = bufferPoolMiB
        self.flushLogAtTrxCommit = flushLogAtTrxCommit
        self.flushMethod = flushMethod
    }
}

/// The transaction of sysbench's OLTP tests lockstep runs.
package enum MySQLMode: String, Codable, Sendable, CaseIterable {
    /// `oltp_read_write`: the reads, then an index update, a non-index update, a delete and an insert.
    case readWrite = "read-write"
    /// `oltp_read_only`: the reads only.
    case readOnly = "read-only"
}

/// How row ids are drawn.
package enum MySQLDistribution: String, Codable, Sendable, CaseIterable {
    /// Uniform over the table.
    case uniform
    /// sysbench 1.0's default "special": 75% of draws in the 1% of ids at the table's middle, the
    /// rest a bell curve around it.
    case special
}

/// One point of the paper's MySQL sweep: a MySQL server on the SUT with sysbench's tables, `threads`
/// clients on the peer (one connection each) running sysbench's OLTP transaction back to back.
package struct MySQLSpec: OpenLoopSpec {
    /// Client threads, one connection each (the sweep's variable).
    package var threads: Int
    /// Read-write or read-only transactions.
    package var mode: MySQLMode
    /// Tables `sbtest1...sbtestN`.
    package var tables: Int
    /// Rows per table.
    package var tableSize: Int
    /// How row ids are drawn.
    package var distribution: MySQLDistribution
    /// Server-side prepared statements (sysbench's default); `false`: text queries.
    package var preparedStatements: Bool
    /// Drop and load the tables again even if they hold what this step needs.
    package var recreate: Bool
    /// Seed of the id and value sequence.
    package var seed: UInt64
    /// Database name.
    package var database: String
    /// User both agents log in as.
    package var user: String
    /// That user's password (the coordinator makes one up for a started server). Never written to results.
    package var password: String
    /// The server the SUT runs or points at.
    package var server: MySQLServerSpec
    /// Open loop: transactions started per second over all threads (each thread runs one at a
    /// time); `nil`: closed loop.
    package var rate: Double?

    package init(
        threads: Int, mode: MySQLMode = .readWrite, tables: Int = 1, tableSize: Int = 100_000,
        distribution: MySQLDistribution = .uniform, preparedStatements: Bool = true, recreate: Bool = false,
        seed: UInt64 = 1, database: String = "sbtest", user: String = "sbtest", password: String = "",
        server: MySQLServerSpec = .init()
    ) {
        self.threads = threads
        self.mode = mode
        self.tables = tables
        self.tableSize = tableSize
        self.distribution = distribution
        self.preparedStatements = preparedStatements
        self.recreate = recreate
        self.seed = seed
        self.database = database
        self.user = user
        self.password = password
        self.server = server
    }

    /// Rows a range query reads (sysbench's `--range_size`).
    package static let rangeSize = 100
    /// Point selects per transaction.
    package static let pointSelects = 10

    package func problems() -> [String] {
        var out: [String] = []
        if !(1...4096).contains(threads) { out.append("threads must be 1...4096, got \(threads)") }
        if !(1...1024).contains(tables) { out.append("tables must be 1...1024, got \(tables)") }
        if !(Self.rangeSize...1_000_000_000).contains(tableSize) {
            out.append("table size must be \(Self.rangeSize)...1000000000 rows, got \(tableSize)")
        }
        let namePattern = { (s: String) in
            !s.isEmpty && s.count <= 64
                && s.utf8.allSatisfy {
                    $0 == UInt8(ascii: "_") || (48...57).contains($0) || (65...90).contains($0)
                        || (97...122).contains($0)
                }
        }
        if !namePattern(database) { out.append("database must be 1-64 letters, digits or _, got '\(database)'") }
        if !namePattern(user) { out.append("user must be 1-64 letters, digits or _, got '\(user)'") }
        if server.external == nil,
            password.utf8.contains(where: { $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "\\") || $0 < 32 })
        {
            out.append("the password of a started server must not contain quotes, backslashes or control characters")
        }
        if let p = server.port, !(1...65_535).contains(p) { out.append("mysql port must be 1...65535, got \(p)") }
        if server.bufferPoolMiB < 8 { out.append("buffer pool must be at least 8 MiB, got \(server.bufferPoolMiB)") }
        if !(0...2).contains(server.flushLogAtTrxCommit) {
            out.append("innodb_flush_log_at_trx_commit must be 0, 1 or 2, got \(server.flushLogAtTrxCommit)")
        }
        if !server.flushMethod.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || (65...90).contains($0) }) {
            out.append(
                "flush method must be an InnoDB method name such as O_DIRECT or fsync, got '\(server.flushMethod)'")
        }
        return out + OpenLoop.problems(rate)
    }
}

extension MySQLSpec {
    package static let kind = "mysql"

    package var labels: [String: String] {
        [
            "threads": String(threads), "transaction": mode.rawValue, "tables": String(tables),
            "table_size": String(tableSize),
        ].merging(OpenLoop.labels(rate)) { a, _ in a }
    }

    package var stepName: String { "mysql-t\(threads)" + OpenLoop.suffix(rate) }

    package var summary: String {
        "mysql \(threads) thread(s), \(mode == .readWrite ? "oltp_read_write" : "oltp_read_only"), "
            + "\(tables) table(s) x \(tableSize) rows" + OpenLoop.summary(rate)
    }

    /// Loading the tables can take long: a minute, plus a second per 20,000 rows.
    package var prepareBudgetNs: Int64 {
        60_000_000_000 + Int64(tables) * Int64(tableSize) / 20_000 * 1_000_000_000
    }
}
