import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// The guest agent's file tree, made from this host's own files with no registry: the agent (a
/// dynamically linked one brings its Swift libraries along: `ldd` lists them), busybox with a link
/// per applet, redis-server, fio and MariaDB's server (the files of their Debian packages, so
/// `mariadb-install-db` finds what it needs), hpcc with OpenMPI and the BLAS and xz/pixz where
/// installed, every shared library `ldd` lists, and
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

    /// Debian packages of hpcc, OpenMPI and the BLAS, whose files go in when hpcc is installed.
    static let hpccPackages = [
        "hpcc", "openmpi-bin", "openmpi-common", "libopenmpi3", "libpmix2", "libhwloc15", "libblas3",
        "libopenblas0-serial", "libopenblas0-pthread", "libopenblas0-openmp",
    ]

    /// Debian's alternatives links the engines are reached through.
    static let alternatives = [
        "/usr/bin/mpirun", "/usr/bin/mpiexec", "/usr/lib/x86_64-linux-gnu/libblas.so.3",
        "/usr/lib/x86_64-linux-gnu/liblapack.so.3",
    ]

    /// Places every file and link of the installed ones of `packages` (not their docs); the files placed.
    func placePackages(_ packages: [String], in root: String) throws -> [String] {
        var placed: [String] = []
        for package in packages {
            guard let listed = try? HostCommand.run("dpkg", ["-L", package]) else { continue }
            for path in listed.split(separator: "\n").map(String.init)
            where !path.hasPrefix("/usr/share/doc") && !path.hasPrefix("/usr/share/man") {
                var st = stat()
                guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG || st.st_mode & S_IFMT == S_IFLNK
                else { continue }
                try place(path, in: root)
                placed.append(path)
            }
        }
        return placed
    }

    /// `path` with `.` and `..` components folded, without following links.
    static func lexical(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                _ = parts.popLast()
            } else {
                parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Whether `path` is an ELF file (a program or library whose libraries `ldd` lists).
    static func isELF(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 4)) == Data([0x7F, 0x45, 0x4C, 0x46])
    }

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
        // The CPU and memory workloads' engines: hpcc with OpenMPI (its plugins and PMIx's are
        // loaded at run time, so every file of their packages goes in), the BLAS Debian's
        // alternatives choose, and the compressors.
        if Executable.find("hpcc") != nil, Executable.find("mpirun") != nil {
            let placed = try placePackages(Self.hpccPackages, in: root)
            for link in Self.alternatives where FileManager.default.fileExists(atPath: link) {
                try place(link, in: root)
            }
            files += placed.filter(Self.isELF)
            contents.programs.append("hpcc")
            progress("hpcc: \(placed.count) files of \(Self.hpccPackages.joined(separator: ", ")) (those installed)")
        }
        for compressor in ["xz", "pixz"] {
            guard let path = Executable.find(compressor) else { continue }
            // busybox's applet of the same name only decompresses: the real one replaces it.
            _ = unlink(root + "/bin/\(compressor)")
            try place(path, in: root)
            files.append(path)
            contents.programs.append(compressor)
        }
        if withMySQL, Executable.find("mariadbd") != nil {
            files += try placePackages(Self.mysqlPackages, in: root)
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
            // Lexically only: Foundation's standardizingPath follows the links (Debian's alternatives
            // would then be skipped and the tree's link left dangling).
            try place(Self.lexical(resolved), in: root)
            return
        }
        try fm.copyItem(atPath: source, toPath: target)
    }
}
