import Foundation
import SQLiteNIO

/// The history database: every run added, in one SQLite file (sqlite-nio's bundled SQLite). A run
/// is stored once by its key (run id and start); adding it again stores nothing, or replaces it when
/// its directory now holds more (a resumed run). A file that is not SQLite, not lockstep's or
/// damaged is refused with one line, never changed.
final class HistoryStore {
    /// A run as `history list` shows it.
    struct StoredRun: Codable, Equatable, Sendable {
        var id: Int
        var key: String
        var name: String
        var directory: String
        var command: String
        var status: String
        var started_at: String
        var finished_at: String?
        var lockstep_version: String
        var testbed: String
        var software: String
        var testbed_summary: String
        var cells: Int
        var added_at: String
    }

    /// One run's aggregate of one cell and metric, with the run's place in time.
    struct Point: Equatable, Sendable {
        var run: StoredRun
        var cell: String
        var workload: String
        var mode: String
        var metric: String
        var unit: String
        var better: String
        /// The metric's place among the cell's headline metrics (0 = the first); `nil`: not a headline.
        var headlineRank: Int?
        var n: Int
        var mean: Double
        var ciHalfWidth: Double?
    }

    /// What `add` did.
    enum Added: String, Sendable {
        case added
        case unchanged = "already stored"
        case replaced = "replaced (the directory holds more than when it was added)"
    }

    /// lockstep's SQLite application id ("LKST").
    static let applicationID = 0x4C4B_5354
    static let schemaVersion = 1

    let path: String
    private let connection: SQLiteConnection

    private init(path: String, connection: SQLiteConnection) {
        self.path = path
        self.connection = connection
    }

    /// Opens (and with `create`, makes) the history at `path`.
    static func open(_ path: String, create: Bool) async throws -> HistoryStore {
        let exists = FileManager.default.fileExists(atPath: path)
        if !exists && !create {
            throw HistoryError(.history, "\(path): no such history database (add a run with `lockstep history add`)")
        }
        var isDirectory: ObjCBool = false
        if exists, FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw HistoryError(.history, "\(path) is a directory, not a history database")
        }
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: path))
        } catch {
            throw HistoryError(.history, "\(path): cannot open: \(describe(error))")
        }
        let store = HistoryStore(path: path, connection: connection)
        do {
            try await store.check(create: create)
        } catch {
            try? await connection.close()
            throw error
        }
        return store
    }

    /// Opens the history at `path`, runs `body` with it and closes it, also when `body` throws.
    static func with<T>(_ path: String, create: Bool, _ body: (HistoryStore) async throws -> T) async throws -> T {
        let store = try await open(path, create: create)
        do {
            let value = try await body(store)
            await store.close()
            return value
        } catch {
            await store.close()
            throw error
        }
    }

    /// Closes the database.
    func close() async {
        try? await connection.close()
    }

    /// Refuses a file that is not an intact lockstep history; makes the tables in an empty one.
    private func check(create: Bool) async throws {
        let tables: Int
        let application: Int
        do {
            _ = try await connection.query("PRAGMA busy_timeout = 15000")
            tables =
                try await connection.query("SELECT count(*) AS n FROM sqlite_master").first?
                .column("n")?.integer ?? 0
            application = try await connection.query("PRAGMA application_id").first?.columns.first?.data.integer ?? 0
        } catch {
            throw HistoryError(
                .history, "\(path) is not a lockstep history database (\(Self.describe(error))); give another --db")
        }
        if tables > 0 && application != Self.applicationID {
            throw HistoryError(
                .history, "\(path) is an SQLite database of something else, not a lockstep history; give another --db")
        }
        do {
            let integrity = try await connection.query("PRAGMA quick_check").first?.columns.first?.data.string
            guard integrity == "ok" else {
                throw HistoryError(.history, "\(path) is damaged (\(integrity ?? "no answer")); restore it from a copy")
            }
        } catch let error as HistoryError {
            throw error
        } catch {
            throw HistoryError(.history, "\(path) is damaged (\(Self.describe(error))); restore it from a copy")
        }
        let version = try await run("PRAGMA user_version").first?.columns.first?.data.integer ?? 0
        if tables > 0 && version > Self.schemaVersion {
            throw HistoryError(
                .history,
                "\(path) was written by a newer lockstep (schema \(version), this one reads \(Self.schemaVersion))")
        }
        guard tables == 0 else { return }
        guard create else { throw HistoryError(.history, "\(path): an empty database, no history in it") }
        try await transaction {
            for statement in Self.schema { _ = try await self.run(statement) }
            _ = try await self.run("PRAGMA application_id = \(Self.applicationID)")
            _ = try await self.run("PRAGMA user_version = \(Self.schemaVersion)")
        }
    }

    static let schema = [
        """
        CREATE TABLE runs (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
          directory TEXT NOT NULL, command TEXT NOT NULL, status TEXT NOT NULL, started_at TEXT NOT NULL,
          finished_at TEXT, lockstep_version TEXT NOT NULL, testbed TEXT NOT NULL, software TEXT NOT NULL,
          testbed_summary TEXT NOT NULL, content TEXT NOT NULL, added_at TEXT NOT NULL)
        """,
        """
        CREATE TABLE provenance (run INTEGER NOT NULL, agent TEXT NOT NULL, field TEXT NOT NULL,
          value TEXT NOT NULL, hardware INTEGER NOT NULL, PRIMARY KEY (run, agent, field))
        """,
        """
        CREATE TABLE cells (run INTEGER NOT NULL, cell TEXT NOT NULL, workload TEXT NOT NULL, mode TEXT NOT NULL,
          labels TEXT NOT NULL, headline TEXT NOT NULL, PRIMARY KEY (run, cell))
        """,
        """
        CREATE TABLE aggregates (run INTEGER NOT NULL, cell TEXT NOT NULL, metric TEXT NOT NULL, unit TEXT NOT NULL,
          better TEXT NOT NULL, n INTEGER NOT NULL, mean REAL NOT NULL, stddev REAL NOT NULL, median REAL NOT NULL,
          min REAL NOT NULL, max REAL NOT NULL, ci_level REAL NOT NULL, ci_half_width REAL,
          PRIMARY KEY (run, cell, metric))
        """,
        """
        CREATE TABLE repetitions (run INTEGER NOT NULL, cell TEXT NOT NULL, step TEXT NOT NULL, metric TEXT NOT NULL,
          value REAL NOT NULL, PRIMARY KEY (run, step, metric))
        """,
        "CREATE INDEX runs_started ON runs (started_at)",
        "CREATE INDEX aggregates_series ON aggregates (cell, metric)",
    ]

    // MARK: - Adding

    /// Stores `entry` once; says what it did.
    func add(_ entry: HistoryEntry) async throws -> Added {
        let digest = entry.contentDigest
        let existing = try await run("SELECT id, content FROM runs WHERE key = ?", [.text(entry.key)]).first
        if let existing, existing.column("content")?.string == digest { return .unchanged }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try await transaction {
            if let id = existing?.column("id")?.integer {
                for table in ["provenance", "cells", "aggregates", "repetitions"] {
                    _ = try await self.run("DELETE FROM \(table) WHERE run = ?", [.integer(id)])
                }
                _ = try await self.run("DELETE FROM runs WHERE id = ?", [.integer(id)])
            }
            _ = try await self.run(
                """
                INSERT INTO runs (key, name, directory, command, status, started_at, finished_at, lockstep_version,
                  testbed, software, testbed_summary, content, added_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
                """,
                [
                    .text(entry.key), .text(entry.name), .text(entry.directory), .text(entry.command),
                    .text(entry.status), .text(entry.startedAt), entry.finishedAt.map { .text($0) } ?? .null,
                    .text(entry.lockstepVersion), .text(entry.testbed.fingerprint), .text(entry.testbed.software),
                    .text(entry.testbed.summary), .text(digest), .text(Self.now()),
                ])
            guard
                let id = try await self.run("SELECT id FROM runs WHERE key = ?", [.text(entry.key)]).first?
                    .column("id")?.integer
            else { throw HistoryError(.history, "\(self.path): the run just added is not there") }
            for row in entry.testbed.rows {
                _ = try await self.run(
                    "INSERT OR REPLACE INTO provenance VALUES (?,?,?,?,?)",
                    [
                        .integer(id), .text(row.agent), .text(row.field), .text(row.value),
                        .integer(row.hardware ? 1 : 0),
                    ])
            }
            for cell in entry.cells {
                _ = try await self.run(
                    "INSERT INTO cells VALUES (?,?,?,?,?,?)",
                    [
                        .integer(id), .text(cell.id), .text(cell.workload), .text(cell.mode),
                        .text(String(decoding: try encoder.encode(cell.labels), as: UTF8.self)),
                        .text(cell.headline.joined(separator: ",")),
                    ])
            }
            for a in entry.aggregates {
                _ = try await self.run(
                    "INSERT OR REPLACE INTO aggregates VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [
                        .integer(id), .text(a.cell), .text(a.metric), .text(a.unit),
                        .text(entry.better[a.metric] ?? "neither"), .integer(a.n), .float(a.mean), .float(a.stddev),
                        .float(a.median), .float(a.min), .float(a.max), .float(a.ci_level),
                        a.ci_half_width.map { .float($0) } ?? .null,
                    ])
            }
            for r in entry.repetitions {
                _ = try await self.run(
                    "INSERT OR REPLACE INTO repetitions VALUES (?,?,?,?,?)",
                    [.integer(id), .text(r.cell), .text(r.step), .text(r.metric), .float(r.value)])
            }
        }
        return existing == nil ? .added : .replaced
    }

    // MARK: - Reading

    /// Every run, oldest first.
    func runs() async throws -> [StoredRun] {
        try await run(
            """
            SELECT r.*, (SELECT count(*) FROM cells c WHERE c.run = r.id) AS cell_count FROM runs r
            ORDER BY r.started_at, r.id
            """
        ).map(Self.storedRun)
    }

    /// The testbed rows of run `id`.
    func testbed(run id: Int) async throws -> Testbed {
        let rows = try await run("SELECT * FROM provenance WHERE run = ? ORDER BY agent, field", [.integer(id)])
        return Testbed(
            rows: rows.map {
                Testbed.Row(
                    agent: $0.column("agent")?.string ?? "", field: $0.column("field")?.string ?? "",
                    value: $0.column("value")?.string ?? "", hardware: $0.column("hardware")?.integer == 1)
            })
    }

    /// Every aggregate of `cell` (all cells when `nil`) and `metric` (all when `nil`), oldest run first.
    func points(cell: String? = nil, metric: String? = nil) async throws -> [Point] {
        var conditions: [String] = []
        var binds: [SQLiteData] = []
        if let cell {
            conditions.append("a.cell = ?")
            binds.append(.text(cell))
        }
        if let metric {
            conditions.append("a.metric = ?")
            binds.append(.text(metric))
        }
        let rows = try await run(
            """
            SELECT r.*, 0 AS cell_count, a.cell AS a_cell, a.metric AS a_metric, a.unit AS a_unit,
              a.better AS a_better, a.n AS a_n, a.mean AS a_mean, a.ci_half_width AS a_half,
              c.workload AS c_workload, c.mode AS c_mode, c.headline AS c_headline
            FROM aggregates a JOIN runs r ON r.id = a.run JOIN cells c ON c.run = a.run AND c.cell = a.cell
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY r.started_at, r.id, a.cell, a.metric
            """, binds)
        return rows.map { row in
            let metric = row.column("a_metric")?.string ?? ""
            let headline = (row.column("c_headline")?.string ?? "").split(separator: ",").map(String.init)
            return Point(
                run: Self.storedRun(row), cell: row.column("a_cell")?.string ?? "",
                workload: row.column("c_workload")?.string ?? "", mode: row.column("c_mode")?.string ?? "",
                metric: metric, unit: row.column("a_unit")?.string ?? "",
                better: row.column("a_better")?.string ?? "neither", headlineRank: headline.firstIndex(of: metric),
                n: Int(row.column("a_n")?.integer ?? 0), mean: row.column("a_mean")?.double ?? 0,
                ciHalfWidth: row.column("a_half")?.double)
        }
    }

    // MARK: - Plumbing

    private static func storedRun(_ row: SQLiteRow) -> StoredRun {
        StoredRun(
            id: Int(row.column("id")?.integer ?? 0), key: row.column("key")?.string ?? "",
            name: row.column("name")?.string ?? "", directory: row.column("directory")?.string ?? "",
            command: row.column("command")?.string ?? "", status: row.column("status")?.string ?? "",
            started_at: row.column("started_at")?.string ?? "", finished_at: row.column("finished_at")?.string,
            lockstep_version: row.column("lockstep_version")?.string ?? "",
            testbed: row.column("testbed")?.string ?? "", software: row.column("software")?.string ?? "",
            testbed_summary: row.column("testbed_summary")?.string ?? "",
            cells: Int(row.column("cell_count")?.integer ?? 0), added_at: row.column("added_at")?.string ?? "")
    }

    /// Runs one statement; an SQLite error becomes one line naming the file.
    private func run(_ sql: String, _ binds: [SQLiteData] = []) async throws -> [SQLiteRow] {
        do {
            return try await connection.query(sql, binds)
        } catch {
            throw HistoryError(.history, "\(path): \(Self.describe(error))")
        }
    }

    /// Runs `body` in one transaction: all of it is stored, or none.
    private func transaction(_ body: () async throws -> Void) async throws {
        _ = try await run("BEGIN IMMEDIATE")
        do {
            try await body()
            _ = try await run("COMMIT")
        } catch {
            _ = try? await run("ROLLBACK")
            throw error
        }
    }

    private static func describe(_ error: any Error) -> String {
        (error as? SQLiteError)?.message ?? String(describing: error)
    }

    private static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
