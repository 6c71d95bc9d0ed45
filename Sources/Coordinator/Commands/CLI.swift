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

/// The table printed after a run.
enum SummaryTable {
    static func render(_ outcomes: [RRStepOutcome]) -> String {
        let header = [
            "step", "test", "req/resp", "flows", "trans/s", "mean us", "p50 us", "p99 us", "p99.9 us", "lost",
            "skew us",
        ]
        var rows = [header]
        for o in outcomes {
            let h = o.latency
            rows.append([
                o.stepID, "\(o.spec.proto.rawValue.uppercased())_RR", "\(o.spec.requestSize)/\(o.spec.responseSize)",
                String(o.spec.flows), String(format: "%.0f", o.transactionsPerSecond),
                String(format: "%.1f", h.totalCount > 0 ? h.mean / 1000 : 0),
                String(format: "%.1f", Double(h.valueAtPercentile(50)) / 1000),
                String(format: "%.1f", Double(h.valueAtPercentile(99)) / 1000),
                String(format: "%.1f", Double(h.valueAtPercentile(99.9)) / 1000),
                String(o.peer.lost), String(format: "%.0f", Double(o.startSkewNs) / 1000),
            ])
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max()! }
        return rows.map { row in
            row.enumerated().map { c, cell in
                c == 0 || c == 1
                    ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
