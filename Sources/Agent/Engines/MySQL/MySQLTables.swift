import Shared

/// Makes sure sysbench's tables exist with the rows a step needs: tables that already hold
/// exactly `tableSize` rows are reused (unless the step asks to recreate them); others are
/// dropped and loaded with multi-row INSERTs, the secondary index added after the rows.
struct MySQLTables {
    let spec: MySQLSpec

    /// Rows per INSERT statement while loading.
    static let batchRows = 1000

    /// Prepares every table on `connection`; returns the seconds spent loading (0 when all were reused).
    func prepare(_ connection: MySQLConnection) throws -> Double {
        let started = MonotonicClock.now()
        var loaded = false
        for n in 1...spec.tables {
            if !spec.recreate, try rows(n, connection) == spec.tableSize { continue }
            try load(n, connection)
            loaded = true
        }
        return loaded ? Double(MonotonicClock.now() - started) / 1e9 : 0
    }

    /// Rows in table `n`, or `nil` if it does not exist.
    func rows(_ n: Int, _ connection: MySQLConnection) throws -> Int? {
        let exists = try connection.query(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
                + "AND table_name = '\(OLTP.table(n))'")
        guard exists.rows.first?.first?.integer == 1 else { return nil }
        return try connection.query("SELECT COUNT(*) FROM \(OLTP.table(n))").rows.first?.first?.integer.map(Int.init)
    }

    private func load(_ n: Int, _ connection: MySQLConnection) throws {
        try connection.query("DROP TABLE IF EXISTS \(OLTP.table(n))")
        try connection.query(OLTP.createTable(n))
        var rng = SplitMix64(seed: SplitMix64.mix(spec.seed &+ UInt64(n)))
        var first = 1
        while first <= spec.tableSize {
            let last = min(first + Self.batchRows - 1, spec.tableSize)
            let sql = OLTP.insertBatch(n, rows: first...last, tableSize: spec.tableSize, &rng)
            try connection.query(String(decoding: sql, as: UTF8.self))
            first = last + 1
        }
        try connection.query(OLTP.createIndex(n))
    }
}
