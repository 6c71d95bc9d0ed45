/// The load generator's side of a MySQL point; counts cover transactions committed inside the window.
package struct MySQLClientResult: Codable, Equatable, Sendable {
    /// Transactions committed.
    package var transactions: UInt64
    /// Transaction latency, nanoseconds.
    package var latency: HistogramSnapshot
    /// Statements sent.
    package var queries: UInt64
    /// Rows the reads returned.
    package var rowsRead: UInt64
    /// Error answers (retried ones included).
    package var errors: UInt64
    /// Deadlocks, lock timeouts and record-changed errors (retried after ROLLBACK).
    package var deadlocks: UInt64
    /// Lost connections reopened.
    package var reconnects: UInt64
    /// The generator's threads.
    package var load: LoadThreads

    package init(
        transactions: UInt64, latency: HistogramSnapshot, queries: UInt64, rowsRead: UInt64, errors: UInt64,
        deadlocks: UInt64, reconnects: UInt64, load: LoadThreads
    ) {
        self.transactions = transactions
        self.latency = latency
        self.queries = queries
        self.rowsRead = rowsRead
        self.errors = errors
        self.deadlocks = deadlocks
        self.reconnects = reconnects
        self.load = load
    }
}

/// The SUT's side of a MySQL point.
package struct MySQLServerResult: Codable, Equatable, Sendable {
    /// Seconds prepare spent loading the tables (0 when they were reused).
    package var loadSeconds: Double
    /// Whether a started server kept `O_DIRECT`; `nil` for an external server.
    package var oDirect: Bool?
    /// Rows in the tables when the step stopped; `nil` when they could not be counted.
    package var rowsAfter: UInt64?

    package init(loadSeconds: Double, oDirect: Bool?, rowsAfter: UInt64?) {
        self.loadSeconds = loadSeconds
        self.oDirect = oDirect
        self.rowsAfter = rowsAfter
    }
}
