import Foundation
import Shared

/// Short commands a mode runs on the host (`ip`, `nft`, `sysctl`, `docker`): off the hot path,
/// each with a timeout, its failure one line naming the command and what it printed.
enum HostCommand {
    /// Runs `program` (a path, or a name looked up on PATH and in sbin) with `arguments`; `input`
    /// goes to its stdin. Returns stdout; throws a `mode-failed` error with stderr when it fails.
    @discardableResult
    static func run(
        _ program: String, _ arguments: [String], input: String? = nil, timeoutSeconds: Double = 60,
        environment: [String: String] = [:]
    ) throws -> String {
        guard let path = Executable.find(program) else {
            throw WireError(.modeFailed, "\(program) not found on this host")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let stdout = Pipe()
        let stderr = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        do {
            try process.run()
        } catch {
            throw WireError(.modeFailed, "cannot run \(path): \(error)")
        }
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }
        let outData = LockedValue(Data())
        let errData = LockedValue(Data())
        let readers = DispatchGroup()
        for (pipe, sink) in [(stdout, outData), (stderr, errData)] {
            readers.enter()
            DispatchQueue.global().async {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                sink.withLock { $0 = data }
                readers.leave()
            }
        }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(2_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw WireError(.modeFailed, "\(describe(program, arguments)) did not finish in \(Int(timeoutSeconds)) s")
        }
        process.waitUntilExit()
        readers.wait()
        let out = String(decoding: outData.value, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            let err = String(decoding: errData.value, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw WireError(
                .modeFailed,
                "\(describe(program, arguments)) failed (status \(process.terminationStatus)): "
                    + (err.isEmpty ? out.trimmingCharacters(in: .whitespacesAndNewlines) : err))
        }
        return out
    }

    /// Runs and ignores failure; for teardown, where a resource may already be gone.
    static func attempt(_ program: String, _ arguments: [String], environment: [String: String] = [:]) -> String? {
        do {
            try run(program, arguments, timeoutSeconds: 30, environment: environment)
            return nil
        } catch let error as WireError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    /// The command as a shell line, for logs and run.json.
    static func describe(_ program: String, _ arguments: [String]) -> String {
        ([program] + arguments).map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
    }

    /// Whether this process has CAP_NET_ADMIN (root has it).
    static var hasNetAdmin: Bool {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
            let caps = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return geteuid() == 0 }
        return caps & (1 << 12) != 0
    }
}
