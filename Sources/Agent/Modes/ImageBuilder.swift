import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// Assembles the container modes' image from this host's files, with no registry: the statically
/// linked agent (a dynamically linked one brings its Swift libraries along: `ldd` lists them), busybox, redis-server and MariaDB's server (the files of their Debian packages, so
/// `mariadb-install-db` finds what it needs), every shared library `ldd` lists, then `docker import`.
struct ImageBuilder {
    let agent: String
    let tag: String
    /// Lines of progress.
    var progress: (String) -> Void = { print($0) }

    /// Debian packages whose files go in when their programs are installed.
    static let mysqlPackages = ["mariadb-server-core", "mariadb-client-core"]

    /// Builds and imports the image; returns its id.
    func build() throws -> String {
        let problems = Self.problems(agent: agent)
        guard problems.isEmpty else { throw WireError(.modePrerequisites, problems.joined(separator: "; ")) }
        let root = try ServerFolder.make(prefix: "lockstep-image")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var files: [String] = []
        try FileManager.default.copyItem(atPath: agent, toPath: root + "/lockstep-agent")
        files.append(agent)
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
            progress("redis-server: \(redis)")
        }
        if Executable.find("mariadbd") != nil {
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
            progress("mariadb: \(Self.mysqlPackages.joined(separator: ", "))")
        }
        var libraries = Set<String>()
        for file in files { libraries.formUnion(Self.sharedLibraries(file)) }
        for library in libraries.sorted() { try place(library, in: root) }
        progress("\(libraries.count) shared libraries")
        try FileManager.default.createDirectory(atPath: root + "/tmp", withIntermediateDirectories: true)
        _ = chmod(root + "/tmp", 0o1777)
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try "root:x:0:0:root:/root:/bin/sh\nmysql:x:100:101::/nonexistent:/bin/false\n".write(
            toFile: root + "/etc/passwd", atomically: true, encoding: .utf8)
        try "root:x:0:\nmysql:x:101:\n".write(toFile: root + "/etc/group", atomically: true, encoding: .utf8)
        let tarball = root + ".tar"
        defer { try? FileManager.default.removeItem(atPath: tarball) }
        try HostCommand.run("tar", ["-C", root, "-cf", tarball, "."], timeoutSeconds: 300)
        let id = try Docker.run([
            "import", "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--change", "WORKDIR /", tarball, tag,
        ]).trimmingCharacters(in: .whitespacesAndNewlines)
        progress("imported \(tag): \(id)")
        return id
    }

    /// What is missing to build the image, one line each naming the fix.
    static func problems(agent: String) -> [String] {
        var out: [String] = []
        if !FileManager.default.isExecutableFile(atPath: agent) { out.append("no agent binary at \(agent)") }
        if Executable.find("busybox") == nil { out.append("busybox is missing: apt-get install busybox-static") }
        if Executable.find("docker") == nil { out.append("docker is missing: apt-get install docker.io") }
        if Executable.find("tar") == nil { out.append("tar is missing: apt-get install tar") }
        return out
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

    /// Copies `source` to the same path under `root`; a symlink is recreated as a link and its
    /// target copied too.
    private func place(_ source: String, in root: String) throws {
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
