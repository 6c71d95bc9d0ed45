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
}
