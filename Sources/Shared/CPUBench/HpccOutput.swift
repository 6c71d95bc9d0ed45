/// `hpccoutf.txt` as lockstep reads it: the key=value lines between `Begin of Summary section.` and
/// `End of Summary section.`, and HPL's residual line (`||Ax-b||_oo/(...)= 0.0072510 ...... PASSED`).
/// A key lockstep reports that is missing or not a number is an error naming it, never a zero.
package struct HpccOutput: Equatable, Sendable {
    /// The summary's values by key (`HPL_Tflops` -> `0.0648065`).
    package var summary: [String: String]
    /// HPL's scaled residual and whether HPL called it PASSED.
    package var residual: Double
    package var residualPassed: Bool

    /// Parses the file's text; throws ``HpccOutputError`` naming what is missing.
    package static func parse(_ text: String) throws -> HpccOutput {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard let begin = lines.lastIndex(of: "Begin of Summary section."),
            let end = lines[begin...].firstIndex(of: "End of Summary section.")
        else {
            throw HpccOutputError("no summary section (hpcc did not finish)")
        }
        var summary: [String: String] = [:]
        for line in lines[(begin + 1)..<end] {
            guard let eq = line.firstIndex(of: "=") else { continue }
            summary[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        // The last residual line before the summary: HPL's (PTRANS prints its own table, not this line).
        guard
            let line = lines[..<begin].last(where: { $0.hasPrefix("||Ax-b||_oo/(eps*") }),
            let eq = line.lastIndex(of: "=")
        else {
            throw HpccOutputError("no HPL residual line (HPL did not run)")
        }
        let rest = line[line.index(after: eq)...].split(separator: " ")
        guard let value = rest.first.flatMap({ Double($0) }), let verdict = rest.last,
            verdict == "PASSED" || verdict == "FAILED"
        else {
            throw HpccOutputError("HPL's residual line is not `= VALUE ...... PASSED|FAILED`: \(line)")
        }
        return HpccOutput(summary: summary, residual: value, residualPassed: verdict == "PASSED")
    }

    /// The summary's number under `key`.
    package func number(_ key: String) throws -> Double {
        guard let text = summary[key] else { throw HpccOutputError("the summary has no \(key)") }
        guard let value = Double(text), value.isFinite else {
            throw HpccOutputError("the summary's \(key) is not a number: \(text)")
        }
        return value
    }

    /// The summary's integer under `key`.
    package func integer(_ key: String) throws -> Int {
        let value = try number(key)
        guard value == value.rounded(), abs(value) < 1e15 else {
            throw HpccOutputError("the summary's \(key) is not an integer: \(value)")
        }
        return Int(value)
    }

    /// `1.5.0f` from the Version* keys.
    package var version: String {
        ["VersionMajor", "VersionMinor", "VersionMicro"].compactMap { summary[$0] }.joined(separator: ".")
            + (summary["VersionRelease"] ?? "")
    }
}

/// Why `hpccoutf.txt` could not be read.
package struct HpccOutputError: Error, Equatable, Sendable, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}
