import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// Everything one placed guest owns on the host, named with lockstep's prefix and the placement's
/// id. Written to the journal before each resource is made, so that a teardown, or the sweep at the
/// next host-agent start after a kill, removes exactly what lockstep made and nothing else.
struct GuestRecord: Codable, Equatable, Sendable {
    /// Six hex digits, unique per placement; part of every name.
    var id: String
    var mode: DeploymentMode
    /// The host agent that placed it, and that process's start time (so a reused pid is not taken for it).
    var ownerPID: Int32
    var ownerStart: UInt64
    var netns: String?
    /// Links in the host's namespace (bridge, the host end of the veth).
    var links: [String] = []
    var nftTable: String?
    var container: String?
    /// The file `docker run --cidfile` writes the container's ID to as soon as the engine created it
    /// (before it starts): the teardown reads it to end what the container left if its engine lost it
    /// (see ``ContainerOrphans``).
    var cidFile: String?
    /// `DOCKER_HOST` when the container was made (the engine to remove it from).
    var dockerHost: String?
    /// The network namespace the host agent ran in (its inode): links, tables and sysctls live there.
    var hostNetns: UInt64 = GuestRecord.currentNetns
    /// The guest agent's pid (or qemu's, for `kvm`), when it is a child of the host agent, and that
    /// process's start time: a sweep kills it only while both match, never a process that reused the pid.
    var guestPID: Int32?
    var guestStart: UInt64?
    /// Folders the placement made (a `kvm` guest's scratch folder: boot archive, console log, QMP
    /// socket, disk); removed with everything in them.
    var folders: [String] = []
    /// Set once a teardown could not remove everything (dockerd down, a busy link): what it could
    /// not remove. The record stays in the journal and the teardown is tried again at the next
    /// session and when a session ends, and by the sweep after a restart.
    var leftBehind: [String]?

    /// Names for a placement `id` in `mode`.
    static func names(_ id: String) -> (
        netns: String, bridge: String, vethHost: String, vethGuest: String, table: String, tap: String
    ) {
        ("lockstep-\(id)", "lsbr\(id)", "lsvh\(id)", "lsvg\(id)", "lockstep_\(id)", "lstp\(id)")
    }

    /// The inode of this process's network namespace.
    static var currentNetns: UInt64 {
        var st = stat()
        return stat("/proc/self/ns/net", &st) == 0 ? UInt64(st.st_ino) : 0
    }

    /// A fresh id.
    static func newID() -> String { randomBytes(3).map { String(format: "%02x", $0) }.joined() }

    /// Whether the agent that placed this guest is still running.
    var ownerAlive: Bool {
        guard kill(ownerPID, 0) == 0 || errno == EPERM else { return false }
        return Self.startTime(ownerPID) == ownerStart
    }

    /// A process's start time in clock ticks since boot (`/proc/PID/stat` field 22).
    static func startTime(_ pid: Int32) -> UInt64 {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) ?? 0 : 0
    }

    /// Removes every resource of the record, guest first; returns what could not be removed.
    func teardown() -> [String] {
        var trouble: [String] = []
        if let guestPID, guestPID > 0, guestStart == nil || Self.startTime(guestPID) == guestStart {
            _ = kill(guestPID, SIGKILL)
            // Links the process holds open (a tap) go away only once it is gone.
            for _ in 0..<100 where kill(guestPID, 0) == 0 && Self.startTime(guestPID) != 0 { usleep(10_000) }
        }
        if let container {
            if let problem = Docker.attempt(["rm", "-f", container], dockerHost: dockerHost),
                !problem.contains("No such container")
            {
                trouble.append(problem)
            } else if let cidFile {
                // The engine has no such container (any more): what it lost of it is ours to end.
                let id = (try? String(contentsOfFile: cidFile, encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                if let id { ContainerOrphans.end(id) }
                if FileManager.default.fileExists(atPath: cidFile) {
                    do { try FileManager.default.removeItem(atPath: cidFile) } catch {
                        trouble.append("cannot remove \(cidFile): \(error)")
                    }
                }
            }
        }
        if let nftTable, let problem = HostCommand.attempt("nft", ["delete", "table", "ip", nftTable]),
            !problem.contains("No such file")
        {
            trouble.append(problem)
        }
        for link in links {
            if let problem = HostCommand.attempt("ip", ["link", "del", link]), !problem.contains("Cannot find device") {
                trouble.append(problem)
            }
        }
        if let netns, let problem = HostCommand.attempt("ip", ["netns", "del", netns]),
            !problem.contains("No such file")
        {
            trouble.append(problem)
        }
        for folder in folders where folder.contains(id) {
            do {
                if FileManager.default.fileExists(atPath: folder) { try FileManager.default.removeItem(atPath: folder) }
            } catch {
                trouble.append("cannot remove \(folder): \(error)")
            }
        }
        return trouble
    }
}

/// The journal of placed guests: one JSON file per placement in the agent's state folder, plus the
/// host's `ip_forward` as it was before the first mode changed it.
struct PlacementJournal: Sendable {
    let directory: String

    init(directory: String) {
        self.directory = directory
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = chmod(directory, 0o700)
    }

    private func path(_ id: String) -> String { "\(directory)/guest-\(id).json" }
    /// `ip_forward` is per network namespace: one saved value per namespace.
    private var forwardPath: String { "\(directory)/ip_forward.before.\(GuestRecord.currentNetns)" }

    /// Writes (or rewrites) a record.
    func write(_ record: GuestRecord) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        guard let data = try? encoder.encode(record) else { return }
        let temp = path(record.id) + ".tmp"
        _ = FileManager.default.createFile(atPath: temp, contents: data, attributes: [.posixPermissions: 0o600])
        _ = rename(temp, path(record.id))
    }

    /// Every record on disk.
    func records() -> [GuestRecord] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.filter { $0.hasPrefix("guest-") && $0.hasSuffix(".json") }.compactMap {
            guard let data = FileManager.default.contents(atPath: "\(directory)/\($0)") else { return nil }
            return try? JSONDecoder().decode(GuestRecord.self, from: data)
        }
    }

    /// Tears a record's resources down and forgets it; the last one out puts `ip_forward` back. A
    /// record whose teardown left something is kept, marked ``GuestRecord/leftBehind``, for
    /// ``retryLeftBehind()``.
    @discardableResult
    func remove(_ record: GuestRecord) -> [String] {
        let trouble = record.teardown()
        guard trouble.isEmpty else {
            var kept = record
            kept.leftBehind = trouble
            write(kept)
            return trouble
        }
        try? FileManager.default.removeItem(atPath: path(record.id))
        if !records().contains(where: { $0.hostNetns == GuestRecord.currentNetns }),
            let before = try? String(contentsOfFile: forwardPath, encoding: .utf8)
        {
            _ = HostCommand.attempt(
                "sysctl", ["-qw", "net.ipv4.ip_forward=\(before.trimmingCharacters(in: .whitespacesAndNewlines))"])
            try? FileManager.default.removeItem(atPath: forwardPath)
        }
        return trouble
    }

    /// Turns IPv4 forwarding on, remembering the value from before the first mode did; returns that value.
    func enableForwarding() throws -> String {
        let current =
            (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_forward", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "0"
        if !FileManager.default.fileExists(atPath: forwardPath) {
            _ = FileManager.default.createFile(atPath: forwardPath, contents: Data(current.utf8))
        }
        if current != "1" { try HostCommand.run("sysctl", ["-qw", "net.ipv4.ip_forward=1"]) }
        return (try? String(contentsOfFile: forwardPath, encoding: .utf8)) ?? current
    }

    /// Tries again to remove what an ended session's teardown could not (a container while dockerd
    /// was down); one line per placement, saying whether it is gone now.
    func retryLeftBehind() -> [String] {
        records().filter { $0.leftBehind != nil && $0.hostNetns == GuestRecord.currentNetns }.map { record in
            let trouble = remove(record)
            return
                "\(record.mode.rawValue) guest \(record.id) left behind (\(record.leftBehind!.joined(separator: "; ")))"
                + (trouble.isEmpty ? ": removed now" : ": still there (\(trouble.joined(separator: "; ")))")
        }
    }

    /// Removes what agents that are gone left behind; one line per placement removed.
    func sweep() -> [String] {
        // Only this namespace's: another namespace's links and tables cannot be reached from here.
        records().filter { !$0.ownerAlive && $0.hostNetns == GuestRecord.currentNetns }.map { record in
            let trouble = remove(record)
            return "swept \(record.mode.rawValue) guest \(record.id) left by pid \(record.ownerPID)"
                + (trouble.isEmpty ? "" : " (\(trouble.joined(separator: "; ")))")
        }
    }
}
