import ArgumentParser
import Foundation
import Shared

/// `lockstep history add|list|show`: the runs kept in a history database.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Keep runs in a history database (SQLite) and list them.",
        discussion: """
            Runs are keyed by their run id and start, so adding one twice stores it once; runs are \
            grouped by testbed fingerprint (the agents' machines), so runs on different hardware never \
            share a series. `lockstep regressions` finds where a series moved.
            """,
        subcommands: [Add.self, List.self, Show.self])

    /// `lockstep history add DIR... --db DB`.
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add results directories to the history (a run already there is stored once).")

        @Argument(help: "Results directories.")
        var directories: [String]

        @Option(help: "The history database (made when absent).")
        var db: String

        func run() async throws {
            try await CLI.reportingErrors {
                try await HistoryStore.with(db, create: true) { store in
                    for directory in directories {
                        let name = ReportRun.names([directory])[0]
                        let entry = try HistoryEntry(ReportRun.load(directory, name: name))
                        let added = try await store.add(entry)
                        print(
                            "history: \(entry.name): \(added.rawValue) (testbed \(entry.testbed.fingerprint), \(entry.cells.count) cell(s))"
                                + entry.suspectNote
                        )
                    }
                }
            }
        }
    }

    /// `lockstep history list --db DB [--json]`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the runs in the history, oldest first.")

        @Option(help: "The history database.")
        var db: String

        @Flag(help: "Print the runs as a JSON array.")
        var json = false

        func run() async throws {
            try await CLI.reportingErrors {
                let runs = try await HistoryStore.with(db, create: false) { try await $0.runs() }
                if json {
                    print(try CLI.prettyJSON(runs))
                    return
                }
                var table = [["run", "started", "status", "cells", "testbed", "software", "command"]]
                for r in runs {
                    table.append([r.name, r.started_at, r.status, String(r.cells), r.testbed, r.software, r.command])
                }
                print(CLI.columns(table))
                for testbed in Set(runs.map(\.testbed)).sorted() {
                    print("testbed \(testbed): \(runs.first { $0.testbed == testbed }?.testbed_summary ?? "")")
                }
            }
        }
    }

    /// `lockstep history show CELL --db DB`.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a cell's series: each run's mean of its headline metrics with the interval.")

        @Argument(help: "The cell (a plan's cell id, or a single run's step id such as rr-tcp-1).")
        var cell: String

        @Option(help: "The history database.")
        var db: String

        @Option(help: "One metric instead of the cell's headline metrics.")
        var metric: String?

        @Flag(help: "Print the points as JSON lines.")
        var json = false

        func run() async throws {
            try await CLI.reportingErrors {
                let points = try await HistoryStore.with(db, create: false) {
                    try await $0.points(cell: cell, metric: metric)
                }
                let shown = metric != nil ? points : points.filter { $0.headlineRank != nil }
                guard !shown.isEmpty else {
                    throw HistoryError(
                        .history, "\(db): no run holds cell \(cell)" + (metric.map { " with metric \($0)" } ?? ""))
                }
                let metrics = shown.reduce(into: [String]()) { if !$0.contains($1.metric) { $0.append($1.metric) } }
                    .sorted { a, b in
                        let ra = shown.first { $0.metric == a }?.headlineRank ?? Int.max
                        let rb = shown.first { $0.metric == b }?.headlineRank ?? Int.max
                        return (ra, a) < (rb, b)
                    }
                for (i, m) in metrics.enumerated() {
                    let series = shown.filter { $0.metric == m }
                    if !json { print((i > 0 ? "\n" : "") + "\(cell) \(m) (\(series[0].unit)):") }
                    var table = [["run", "started", "testbed", "mean", "interval", "n"]]
                    for p in series {
                        if json {
                            let row: [String: String] = [
                                "run": p.run.name, "started_at": p.run.started_at, "testbed": p.run.testbed,
                                "metric": m, "unit": p.unit, "mean": String(p.mean), "n": String(p.n),
                                "ci_half_width": p.ciHalfWidth.map { String($0) } ?? "",
                            ]
                            print(try CLI.compactJSON(row))
                        }
                        table.append([
                            p.run.name, p.run.started_at, p.run.testbed, Regressions.number(p.mean),
                            p.ciHalfWidth.map { "± " + Regressions.number($0) } ?? "-", String(p.n),
                        ])
                    }
                    if !json { print(CLI.columns(table)) }
                }
            }
        }
    }
}

/// `lockstep regressions --db DB`: change points over the history, newest first.
struct RegressionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regressions",
        abstract: "Find where each cell's headline metrics moved over the history (change-point detection).",
        discussion: """
            Per testbed, cell and headline metric, the series of the runs' means is split by E-divisive \
            means as Apache Otava does it (sliding windows, a Student's t test on both sides of each \
            candidate). Each change point is printed with the run it starts at, the size of the change, \
            its p-value, whether the newest runs still show it, and the provenance rows that changed \
            there. With --fail-on-regression PCT the exit status is 1 when a regression larger than PCT \
            percent is still in effect (for a nightly CI job).
            """)

    @Option(help: "The history database.")
    var db: String

    @Option(help: "Only changes from here on: a duration back from now (7d, 36h), a date (2026-12-01) or a run's name.")
    var since: String?

    @Option(help: "Only this cell.")
    var cell: String?

    @Option(help: "Only this metric (any metric, not only the headline ones).")
    var metric: String?

    @Option(help: "Largest p-value of a change point (Otava's default).")
    var pvalue: Double = 0.001

    @Option(help: "Points per sliding window.")
    var window: Int = 50

    @Option(help: "Smallest relative change (0.05 = 5%) a significant change point must have.")
    var magnitude: Double = 0

    @Option(help: "Exit 1 when a regression worse than this many percent is still in effect.")
    var failOnRegression: Double?

    @Flag(help: "Print the analysis as JSON.")
    var json = false

    func validate() throws {
        guard pvalue > 0, pvalue < 1 else { throw ValidationError("--pvalue must be between 0 and 1") }
        guard window >= 2 else { throw ValidationError("--window must be at least 2") }
        guard magnitude >= 0 else { throw ValidationError("--magnitude must not be negative") }
        if let pct = failOnRegression, pct < 0 { throw ValidationError("--fail-on-regression must not be negative") }
    }

    func run() async throws {
        let options = ChangePoints.Options(window: window, maxPValue: pvalue, minMagnitude: magnitude)
        let analysis = try await CLI.reportingErrors {
            let (points, testbeds) = try await HistoryStore.with(db, create: false) { store in
                let points = try await store.points(cell: cell, metric: metric)
                var testbeds: [Int: Testbed] = [:]
                for id in Set(points.map(\.run.id)) { testbeds[id] = try await store.testbed(run: id) }
                return (points, testbeds)
            }
            guard !points.isEmpty else {
                throw HistoryError(.history, "\(db): no run" + (cell.map { " holds cell \($0)" } ?? " in it"))
            }
            return Regressions.analyze(
                points, testbeds: testbeds, options: options, since: since.map { Regressions.Since($0) } ?? .all,
                failOver: failOnRegression, headlineOnly: metric == nil)
        }
        if json {
            struct Output: Encodable {
                var runs: Int
                var testbeds: [String: String]
                var changes: [Regressions.Change]
                var series: [Regressions.Series]
            }
            print(
                try CLI.prettyJSON(
                    Output(
                        runs: analysis.runCount, testbeds: analysis.testbeds, changes: analysis.changes,
                        series: analysis.series)))
        } else {
            print(analysis.text(database: db, options: options))
        }
        if let pct = failOnRegression {
            try CLI.failOnRegressions(
                analysis.failing(over: pct).map {
                    String(format: "%@ %@ %+.1f%% at %@", $0.cell, $0.metric, $0.change_pct, $0.run)
                }, "worse than \(svgNumber(pct))%, still in effect")
        }
    }
}

extension CLI {
    /// A finished run's last words: adds it to the history at `db` (when given), then writes its
    /// report (with its series over the history) and says where.
    static func finish(_ directory: String, history db: String?) async {
        guard let db else { return writeReport(directory) }
        await addToHistory(directory, db: db)
        do {
            print(
                "report: " + (try await ReportCommand.write([directory], to: directory + "/report.html", history: db)))
        } catch {
            FileHandle.standardError.write(Data("lockstep: warning: no report with the history: \(error)\n".utf8))
            writeReport(directory)
        }
    }

    /// Adds a finished run's directory to the history at `db` (`--history`); a failure is a warning:
    /// the run's results are on disk and can be added later with `lockstep history add`.
    static func addToHistory(_ directory: String, db: String) async {
        do {
            let entry = try HistoryEntry(ReportRun.load(directory, name: ReportRun.names([directory])[0]))
            let added = try await HistoryStore.with(db, create: true) { try await $0.add(entry) }
            print(
                "history: \(db): \(entry.name) \(added.rawValue) (testbed \(entry.testbed.fingerprint))"
                    + entry.suspectNote)
        } catch let error as any LockstepError {
            FileHandle.standardError.write(
                Data(
                    "lockstep: warning: not added to the history: \(error.message) (add it with `lockstep history add \(directory) --db \(db)`)\n"
                        .utf8))
        } catch {
            FileHandle.standardError.write(Data("lockstep: warning: not added to the history: \(error)\n".utf8))
        }
    }
}
