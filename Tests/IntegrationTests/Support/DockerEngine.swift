import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A Docker engine started by hand for one test (Debian's docker.io, no systemd), everything under a
/// scratch folder; stopping it removes what dockerd leaves behind (docker0, the nat and filter
/// tables it made, ip_forward), but never a table that existed before it started.
final class DockerEngine {
    let folder: String
    let socket: String
    private let daemon: Process
    private let tablesBefore: Set<String>
    private let forwardBefore: String

    /// `DOCKER_HOST` for this engine.
    var host: String { "unix://\(socket)" }

    /// Whether dockerd is installed here.
    static var installed: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/dockerd") }

    init() throws {
        var template = Array("/tmp/lsdk-XXXXXX".utf8CString)
        folder = String(cString: mkdtemp(&template)!)
        socket = folder + "/sock"
        tablesBefore = Set(Self.lines("/usr/sbin/nft", ["list", "tables"]))
        forwardBefore =
            (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_forward", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "0"
        daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "/usr/sbin/dockerd")
        daemon.arguments = [
            "--data-root", folder + "/root", "--exec-root", folder + "/exec", "--pidfile", folder + "/pid", "-H",
            "unix://\(socket)",
        ]
        let log = FileHandle(forWritingAtPath: "/dev/null")
        daemon.standardOutput = log
        daemon.standardError = log
        try daemon.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if Self.lines("/usr/bin/docker", ["-H", "unix://\(socket)", "info", "--format", "{{.ServerVersion}}"])
                .first?.isEmpty == false
            {
                return
            }
            usleep(200_000)
        }
        stop()
        throw NotListening(endpoint: .init(host: socket, port: 0))
    }

    /// Containers on this engine.
    func containers() -> [String] { Self.lines("/usr/bin/docker", ["-H", host, "ps", "-aq"]) }

    /// Stops the engine and removes what it left.
    func stop() {
        for id in containers() { _ = Self.lines("/usr/bin/docker", ["-H", host, "rm", "-f", id]) }
        if daemon.isRunning {
            daemon.terminate()
            let deadline = Date().addingTimeInterval(10)
            while daemon.isRunning && Date() < deadline { usleep(50_000) }
            if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) }
        }
        _ = Self.lines("/usr/sbin/ip", ["link", "del", "docker0"])
        for table in ["nat", "filter"] where !tablesBefore.contains("table ip \(table)") {
            _ = Self.lines("/usr/sbin/nft", ["delete", "table", "ip", table])
        }
        _ = Self.lines("/usr/sbin/sysctl", ["-qw", "net.ipv4.ip_forward=\(forwardBefore)"])
        _ = Self.lines("/usr/bin/umount", [folder + "/exec/netns/default"])
        // dockerd bind-mounts its data root onto itself: without this every test engine left a mount.
        _ = Self.lines("/usr/bin/umount", ["-l", folder + "/root"])
        try? FileManager.default.removeItem(atPath: folder)
    }

    deinit { stop() }

    static func lines(_ program: String, _ arguments: [String]) -> [String] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return [] }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
