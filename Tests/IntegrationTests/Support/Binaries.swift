import Foundation
import Shared
import TestSupport

@testable import Coordinator

#if canImport(Glibc)
    import Glibc
#endif

/// The built `lockstep` and `lockstep-agent` executables, beside the test bundle.
enum Binaries {
    static var folder: String {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // The test runner may live inside lockstepPackageTests.xctest/... on some setups.
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("lockstep-agent").path),
            url.path != "/"
        {
            url.deleteLastPathComponent()
        }
        return url.path
    }

    static var agent: String { folder + "/lockstep-agent" }
    static var coordinator: String { folder + "/lockstep" }
}

/// A child process with captured output, killed at the end of the test if still running.
final class ChildProcess {
    let process = Process()
    let stdoutPath: String
    let stderrPath: String

    init(_ executable: String, _ arguments: [String], prefix: [String] = [], scratch: Scratch, label: String) throws {
        stdoutPath = "\(scratch.path)/\(label).out"
        stderrPath = "\(scratch.path)/\(label).err"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        if prefix.isEmpty {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: prefix[0])
            process.arguments = Array(prefix.dropFirst()) + [executable] + arguments
        }
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
    }

    deinit { terminate(signal: SIGKILL) }

    var pid: Int32 { process.processIdentifier }
    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    func terminate(signal: Int32 = SIGTERM) {
        if process.isRunning { kill(pid, signal) }
    }

    /// Waits up to `seconds`; the exit status, or `nil` if it is still running.
    func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// A real `lockstep-agent serve` process on a free loopback port.
final class AgentProcess {
    let child: ChildProcess
    let endpoint: Endpoint

    /// An agent on `port` (a free one when `nil`: a restarted agent passes its predecessor's).
    init(
        name: String, tokenPath: String, scratch: Scratch, port: Int? = nil, extra: [String] = [],
        prefix: [String] = []
    ) throws {
        endpoint = Endpoint(host: "127.0.0.1", port: try port ?? freePort())
        child = try ChildProcess(
            Binaries.agent,
            [
                "serve", "--listen", endpoint.description, "--token-file", tokenPath,
                "--name", name,
            ] + extra,
            prefix: prefix, scratch: scratch, label: "agent-\(name)")
        try waitUntilListening(endpoint)
    }
}

/// A loopback TCP port nobody listens on right now.
func freePort() throws -> Int { try LocalAgents.freePort() }

/// Whether something accepts TCP connections on the endpoint right now.
func isListening(_ endpoint: Endpoint) -> Bool { LocalAgents.isListening(endpoint) }

struct NotListening: Error, CustomStringConvertible {
    let endpoint: Endpoint
    var description: String { "nothing listens on \(endpoint)" }
}

func waitUntilListening(_ endpoint: Endpoint, seconds: Double = 10) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if isListening(endpoint) { return }
        usleep(20_000)
    }
    throw NotListening(endpoint: endpoint)
}

/// PIDs of live (not zombie) processes whose command line contains `text`.
func processes(mentioning text: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
            String(decoding: cmdline, as: UTF8.self).contains(text),
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let state = stat.split(separator: ")").last?.split(separator: " ").first
        else { return false }
        return state != "Z"
    }
}

/// PIDs of live processes whose parent is `parent` and whose command name is `name`.
func children(of parent: Int32, named name: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
        else { return false }
        let comm = stat[stat.index(after: open)..<close]
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return comm == name && fields.count > 2 && fields[0] != "Z" && Int32(fields[1]) == parent
    }
}
