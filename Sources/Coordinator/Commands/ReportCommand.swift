import ArgumentParser
import Foundation
import Shared

/// `lockstep report DIR [DIR ...] --out report.html`.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Draw the paper's figures from results directories into one self-contained HTML file.",
        discussion: """
            Works on any results directory, from one `lockstep rr` to a whole plan; several directories \
            make one report with the runs told apart by their folder names. The page needs no network \
            and no script: inline SVG figures with their numbers beneath, hover a mark for its value.
            """)

    @Argument(help: "Results directories (run.json, samples.jsonl, ...).")
    var directories: [String]

    @Option(help: "The HTML file to write.")
    var out: String = "report.html"

    @Option(help: "A history database: add each cell's series over time with its change points.")
    var history: String?

    func run() async throws {
        try await CLI.reportingErrors {
            let path = try await Self.write(directories, to: out, history: history)
            print("report: \(path)")
        }
    }

    /// Writes the report of `directories` to `path`, with their series from the `history` database
    /// when given; returns the path.
    @discardableResult
    static func write(_ directories: [String], to path: String, history: String?) async throws -> String {
        let runs = load(directories)
        var section: HistorySection?
        if let history { section = try await HistorySection.load(history, runs: runs) }
        return try write(ReportPage(runs: runs, history: section), to: path)
    }

    /// Writes the report of `directories` to `path`; returns the path.
    @discardableResult
    static func write(_ directories: [String], to path: String) throws -> String {
        try write(ReportPage(runs: load(directories)), to: path)
    }

    private static func load(_ directories: [String]) -> [ReportRun] {
        zip(directories, ReportRun.names(directories)).map { ReportRun.load($0, name: $1) }
    }

    private static func write(_ page: ReportPage, to path: String) throws -> String {
        let html = page.html()
        do {
            try html.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw ResultsError("cannot write \(path): \(error.localizedDescription)")
        }
        return path
    }
}

/// `lockstep compare A B`: what changed between two runs of the same cells.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract:
            "Compare two runs cell by cell: each headline metric, its change in percent, and whether it is significant (Welch and Mann-Whitney)."
    )

    @Argument(help: "The baseline results directory.")
    var a: String

    @Argument(help: "The results directory compared with it.")
    var b: String

    @Flag(help: "Print the rows as JSON.")
    var json = false

    @Option(help: "Significance level of the tests.")
    var alpha: Double = 0.05

    @Option(help: "Exit with status 1 when a significant change is worse than this many percent (for CI).")
    var failOnRegression: Double?

    func validate() throws {
        guard alpha > 0, alpha < 1 else { throw ValidationError("--alpha must be between 0 and 1") }
        if let pct = failOnRegression, pct < 0 { throw ValidationError("--fail-on-regression must not be negative") }
    }

    func run() throws {
        let names = ReportRun.names([a, b])
        let runA = ReportRun.load(a, name: names[0])
        let runB = ReportRun.load(b, name: names[1])
        for run in [runA, runB] where run.info == nil {
            CLI.fail(ResultsError(run.missing.first ?? "\(run.directory): no run"))
        }
        let comparison = Comparison.compare(runA, runB, alpha: alpha)
        if comparison.rows.isEmpty {
            CLI.fail(ResultsError("\(a) and \(b) share no finished cell to compare"))
        }
        if json {
            print(try CLI.prettyJSON(comparison.rows))
        } else {
            print(comparison.text(nameA: "\(runA.name) (\(a))", nameB: "\(runB.name) (\(b))", alpha: alpha))
        }
        if let pct = failOnRegression {
            try CLI.failOnRegressions(
                comparison.regressions(over: pct).map {
                    String(format: "%@ %@ %+.2f%%", $0.cell, $0.metric, $0.change_pct ?? 0)
                }, "worse than \(svgNumber(pct))%, significant")
        }
    }
}
