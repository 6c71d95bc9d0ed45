import ArgumentParser
import Foundation
import Shared

/// What every command shares: errors become one line on stderr and a non-zero exit status.
enum CLI {
    static func loadToken(_ path: String) throws -> Token {
        do {
            return try Token.load(path: path)
        } catch let error as any LockstepError {
            fail(error)
        }
    }

    /// Runs `body`; a failure prints `lockstep: error: <code>: <message>` and exits 1.
    static func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as any LockstepError {
            fail(error)
        }
    }

    /// Runs a run's `body`, then writes `directory/report.html` of whatever it holds (also after a
    /// failure, once the run had begun there) and says where; a failure then becomes one line and exit 1.
    static func reportingRun<T>(into directory: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as any LockstepError {
            writeReport(directory)
            fail(error)
        }
    }

    /// Writes `directory/report.html` if the directory holds a run, and prints its path (a line on
    /// stderr, not a failure, when it cannot).
    static func writeReport(_ directory: String) {
        guard FileManager.default.fileExists(atPath: directory + "/run.json") else { return }
        do {
            print("report: " + (try ReportCommand.write([directory], to: directory + "/report.html")))
        } catch {
            FileHandle.standardError.write(Data("lockstep: warning: no report: \(error)\n".utf8))
        }
    }

    /// Prints `lockstep: error: <code>: <message>` (whatever layer the error is from) and exits 1.
    static func fail(_ error: any LockstepError) -> Never {
        FileHandle.standardError.write(Data("lockstep: error: \(error.codeText): \(error.message)\n".utf8))
        exit(1)
    }

    /// `value` as indented JSON with sorted keys.
    static func prettyJSON(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// With `--strict` and any suspect step, one line `lockstep: suspect: STEP (checks); ...` on
    /// stderr and exit status 3.
    static func failOnSuspect(_ outcomes: [StepOutcome], strict: Bool) throws {
        let suspect = outcomes.filter { $0.verdict == .suspect }
        guard strict, !suspect.isEmpty else { return }
        let items = suspect.map { "\($0.stepID) (\($0.failedChecks.map(\.name).joined(separator: ", ")))" }
        FileHandle.standardError.write(
            Data("lockstep: suspect: \(items.joined(separator: "; ")) (--strict: see run.json's checks)\n".utf8))
        throw ExitCode(3)
    }

    /// With regressions, one line `lockstep: regression: A; B (why)` on stderr and exit status 1.
    static func failOnRegressions(_ items: [String], _ why: String) throws {
        guard !items.isEmpty else { return }
        FileHandle.standardError.write(
            Data("lockstep: regression: \(items.joined(separator: "; ")) (\(why))\n".utf8))
        throw ExitCode(1)
    }

    /// `value` as one line of JSON with sorted keys.
    static func compactJSON(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Rows as left-aligned columns two spaces apart (the terminal tables of compare, history, a
    /// plan's aggregates and the peers).
    static func columns(_ rows: [[String]]) -> String {
        let widths = rows[0].indices.map { c in rows.map { $0.count > c ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
