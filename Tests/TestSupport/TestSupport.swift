import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

// What both test targets use: scratch folders with a token, and the results files read back.

/// A scratch folder removed at the end of a test.
package final class Scratch {
    package let path: String

    package init() {
        var template = Array("/tmp/lockstep-test-XXXXXX".utf8CString)
        path = String(cString: mkdtemp(&template)!)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A fresh token file (mode 0600) in the folder.
    package func token() throws -> (path: String, token: Token) {
        let p = path + "/token"
        return (p, try Token.generate(at: p))
    }
}

/// Reads a JSON Lines file into dictionaries; a line that is not an object is an error, not a crash.
package func jsonLines(_ path: String) throws -> [[String: Any]] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
        guard let object = try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] else {
            throw CocoaError(.propertyListReadCorrupt, userInfo: [NSDebugDescriptionErrorKey: "not an object: \($0)"])
        }
        return object
    }
}

/// Reads a JSON file holding one object (run.json); anything else is an error, not a crash.
package func jsonObject(_ path: String) throws -> [String: Any] {
    guard
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
            as? [String: Any]
    else {
        throw CocoaError(
            .propertyListReadCorrupt, userInfo: [NSDebugDescriptionErrorKey: "\(path) is not a JSON object"])
    }
    return object
}

/// The first summary (not interval) sample of a metric.
package func summaryValue(_ samples: [[String: Any]], _ metric: String, step: String? = nil) -> Double? {
    samples.first { s in
        let labels = s["labels"] as? [String: String] ?? [:]
        return s["metric"] as? String == metric && labels["kind"] != "interval"
            && (step == nil || labels["step"] == step)
    }?["value"] as? Double
}

/// Test steps: a workload with a short timing.
package func step(_ workload: Workload, warmupNs: Int64 = 200_000_000, durationNs: Int64 = 1_000_000_000) -> PlannedStep
{
    PlannedStep(workload, timing: StepTiming(warmupNs: warmupNs, durationNs: durationNs))
}

/// Runs `arguments` (the first found on PATH through /usr/bin/env) with `input` on its standard
/// input; its exit status (127: not found), standard output and standard error.
package func runFilter(_ arguments: [String], input: Data) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let stdin = Pipe()
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    stdin.fileHandleForWriting.write(input)
    try stdin.fileHandleForWriting.close()
    let out = stdout.fileHandleForReading.readDataToEndOfFile()
    let err = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
}
