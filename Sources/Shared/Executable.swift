import Foundation

/// Finds programs the way the agent starts them (and quickstart checks for them).
package enum Executable {
    /// `name` itself if it contains a slash and is executable; else its first match on PATH, then in
    /// the sbin directories (where Debian puts mariadbd); `nil` if none.
    package static func find(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/local/sbin"]
        return dirs.lazy.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The first line a program found with ``find(_:)`` prints (`--version`); `nil` when it is
    /// missing, fails or takes more than 2 s.
    package static func firstLine(of program: String, _ arguments: [String]) -> String? {
        outputLines(of: program, arguments).first
    }

    /// The output lines of a program found with ``find(_:)``; empty when it is missing or fails (2 s at most).
    package static func outputLines(of program: String, _ arguments: [String]) -> [String] {
        guard let path = find(program) else { return [] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return [] }
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            return []
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        guard process.terminationStatus == 0 else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
