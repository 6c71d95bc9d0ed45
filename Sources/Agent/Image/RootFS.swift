import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// The guest agent's file tree, made from this host's own files with no registry: the agent (a
/// dynamically linked one brings its Swift libraries along: `ldd` lists them), busybox with a link
/// per applet, redis-server, fio and MariaDB's server (the files of their Debian packages, so
/// `mariadb-install-db` finds what it needs) where installed, every shared library `ldd` lists, and
/// the few files of /etc they expect. The container image (``ImageBuilder``) and the qemu guest's
/// initramfs (``VMImageBuilder``) are both this tree.
struct RootFS {
    /// The agent binary to put in as `/lockstep-agent`.
    let agent: String
    /// Strip the agent's symbols on the way in (`strip`, where installed): the tree is smaller.
    var strip = false
    /// Leave MariaDB out (a smaller tree).
    var withMySQL = true
    /// Lines of progress.
    var progress: (String) -> Void = { print($0) }

    /// Debian packages whose files go in when their programs are installed.
    static let mysqlPackages = ["mariadb-server-core", "mariadb-client-core"]

    /// What is missing to assemble the tree, one line each naming the fix.
    static func problems(agent: String) -> [String] {
        var out: [String] = []
        if !FileManager.default.isExecutableFile(atPath: agent) { out.append("no agent binary at \(agent)") }
        if Executable.find("busybox") == nil { out.append("busybox is missing: apt-get install busybox-static") }
        if Executable.find("ldd") == nil { out.append("ldd is missing: apt-get install libc-bin") }
        return out
    }

    /// Fills `root` (an empty folder) with the tree; returns what it holds, for a manifest.
    @discardableResult
    func assemble(into root: String) throws -> Contents {
        var contents = Contents()
        var files: [String] = []
        let agentTarget = root + "/lockstep-agent"
        if strip, Executable.find("strip") != nil {
            try HostCommand.run("strip", ["-o", agentTarget, agent], timeoutSeconds: 300)
        } else {
            try FileManager.default.copyItem(atPath: agent, toPath: agentTarget)
        }
        files.append(agent)
        contents.agentBytes = Self.size(agentTarget)
        let busybox = Executable.find("busybox")!
        try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: busybox, toPath: root + "/bin/busybox")
        let applets = try HostCommand.run(busybox, ["--list"]).split(separator: "\n")
        for applet in applets where applet != "busybox" {
            _ = symlink("busybox", root + "/bin/\(applet)")
        }
        if let redis = Executable.find("redis-server") {
            try place(redis, in: root)
            files.append(redis)
            contents.programs.append("redis-server")
            progress("redis-server: \(redis)")
        }
        // The block-I/O workload's engine (its ioengines libaio and io_uring are libraries ldd lists).
        if let fio = Executable.find("fio") {
            try place(fio, in: root)
            files.append(fio)
            contents.programs.append("fio")
            progress("fio: \(fio)")
        }
        if withMySQL, Executable.find("mariadbd") != nil {
            for package in Self.mysqlPackages {
                let listed = try HostCommand.run("dpkg", ["-L", package]).split(separator: "\n").map(String.init)
                for path in listed where !path.hasPrefix("/usr/share/doc") && !path.hasPrefix("/usr/share/man") {
                    var st = stat()
                    guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG || st.st_mode & S_IFMT == S_IFLNK
                    else { continue }
                    try place(path, in: root)
                    files.append(path)
                }
            }
            contents.programs.append("mariadbd")
            progress("mariadb: \(Self.mysqlPackages.joined(separator: ", "))")
        }
        var libraries = Set<String>()
        for file in files { libraries.formUnion(Self.sharedLibraries(file)) }
        for library in libraries.sorted() { try place(library, in: root) }
        contents.libraries = libraries.sorted()
        progress("\(libraries.count) shared libraries")
        try FileManager.default.createDirectory(atPath: root + "/tmp", withIntermediateDirectories: true)
        _ = chmod(root + "/tmp", 0o1777)
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try "root:x:0:0:root:/root:/bin/sh\nmysql:x:100:101::/nonexistent:/bin/false\n".write(
            toFile: root + "/etc/passwd", atomically: true, encoding: .utf8)
        try "root:x:0:\nmysql:x:101:\n".write(toFile: root + "/etc/group", atomically: true, encoding: .utf8)
        return contents
    }

    /// What a tree holds.
    struct Contents: Codable, Equatable, Sendable {
        /// Size of `/lockstep-agent`, bytes.
        var agentBytes: Int64 = 0
        /// Programs put in besides the agent (`redis-server`, `fio`, `mariadbd`).
        var programs: [String] = []
        /// Shared libraries put in (absolute paths); none but glibc's for a statically linked agent.
        var libraries: [String] = []
    }

    /// The shared libraries `ldd` lists for `file` (with the loader), as absolute paths.
    static func sharedLibraries(_ file: String) -> [String] {
        guard let text = try? HostCommand.run("ldd", [file]) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if let arrow = parts.firstIndex(of: "=>"), arrow + 1 < parts.count, parts[arrow + 1].hasPrefix("/") {
                return String(parts[arrow + 1])
            }
            if let first = parts.first, first.hasPrefix("/") {
                return String(first.trimmingCharacters(in: .whitespaces))
            }
            return nil
        }
    }

    /// Whether `agent` needs Swift's shared libraries (not built with `--static-swift-stdlib`).
    static func linksSwiftDynamically(_ agent: String) -> Bool {
        sharedLibraries(agent).contains { ($0 as NSString).lastPathComponent.hasPrefix("libswiftCore") }
    }

    static func size(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// Copies `source` to the same path under `root`; a symlink is recreated as a link and its
    /// target copied too.
    func place(_ source: String, in root: String) throws {
        let fm = FileManager.default
        let target = root + source
        try fm.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var st = stat()
        if lstat(target, &st) == 0 { return }
        if let link = try? fm.destinationOfSymbolicLink(atPath: source) {
            _ = symlink(link, target)
            let resolved = link.hasPrefix("/") ? link : (source as NSString).deletingLastPathComponent + "/" + link
            try place((resolved as NSString).standardizingPath, in: root)
            return
        }
        try fm.copyItem(atPath: source, toPath: target)
    }
}
