import ArgumentParser
import Foundation
import Shared

/// What every command shares: errors become one line on stderr and a non-zero exit status.
enum CLI {
    static func loadToken(_ path: String) throws -> Token {
        do {
            return try Token.load(path: path)
        } catch let error as WireError {
            fail(error)
        }
    }

    /// Runs `body`; a failure prints `lockstep: error: <code>: <message>` and exits 1.
    static func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as WireError {
            fail(error)
        }
    }

    static func fail(_ error: WireError) -> Never {
        FileHandle.standardError.write(Data("lockstep: error: \(error.code): \(error.message)\n".utf8))
        exit(1)
    }
}
