import Foundation
import Shared

/// The guest's kernel and the modules its initramfs loads: the user's (`--kernel`, with its modules
/// from `--modules` or `/lib/modules/RELEASE`) or the one in Debian's `linux-image-amd64` package,
/// fetched with `apt-get download` and unpacked with `dpkg-deb -x` (installing it would pull in
/// initramfs-tools and udev). A compressed bzImage is decompressed to its ELF vmlinux where it can
/// be, for qemu's direct PVH boot (about half the boot time under TCG).
struct GuestKernel {
    /// The file qemu boots (`vmlinux`, or the bzImage as given).
    var image: String
    /// The kernel's release (`6.1.0-57-amd64`), from the image's version string.
    var release: String
    /// Where it came from (a path, or `debian:PACKAGE_VERSION`).
    var source: String
    /// The modules folder (`.../lib/modules/RELEASE`), if any.
    var modules: String?

    /// Modules the guest needs, by name: the network and block devices, and ext4 for its disk (fio's
    /// file, MySQL's data) with the crc32c driver ext4 asks for by alias (its `softdep`, which
    /// `depends=` does not list: without it Debian's 6.1 ext4 cannot mount).
    static let wanted = ["virtio_pci", "virtio_net", "virtio_blk", "crc32c_generic", "ext4"]

    /// Wanted modules a kernel may lack without harm (built in under another name, or not needed).
    static let optional: Set<String> = ["crc32c_generic"]

    /// The user's kernel, or Debian's fetched into `work`; the image is written into `work` too.
    static func prepare(
        kernel: String?, modules: String?, work: String, progress: (String) -> Void
    ) throws -> GuestKernel {
        if let kernel {
            guard FileManager.default.fileExists(atPath: kernel) else {
                throw WireError(.modePrerequisites, "no kernel at \(kernel)")
            }
            let release = try Self.release(of: kernel)
            let folder = modules ?? "/lib/modules/\(release)"
            return GuestKernel(
                image: try bootable(kernel, work: work), release: release, source: kernel,
                modules: FileManager.default.fileExists(atPath: folder) ? folder : nil)
        }
        return try debian(work: work, progress: progress)
    }

    /// Debian's `linux-image-amd64` (the package it depends on), unpacked into `work/kernel`.
    static func debian(work: String, progress: (String) -> Void) throws -> GuestKernel {
        guard Executable.find("apt-get") != nil, Executable.find("dpkg-deb") != nil else {
            throw WireError(
                .modePrerequisites, "fetching Debian's kernel needs apt-get and dpkg-deb; or pass --kernel PATH")
        }
        func download(_ package: String) throws -> String {
            do {
                try HostCommand.run(
                    "sh", ["-c", "cd \(shellQuoted(work)) && apt-get download \(package)"], timeoutSeconds: 600)
            } catch let error as WireError {
                throw WireError(
                    .modePrerequisites,
                    "apt-get download \(package) failed (no Debian mirror reachable?); pass --kernel PATH: \(error.message)"
                )
            }
            let files = (try? FileManager.default.contentsOfDirectory(atPath: work)) ?? []
            guard let deb = files.first(where: { $0.hasPrefix(package + "_") && $0.hasSuffix(".deb") }) else {
                throw WireError(.modePrerequisites, "apt-get download \(package) left no .deb in \(work)")
            }
            return work + "/" + deb
        }
        let meta = try download("linux-image-amd64")
        let depends = try HostCommand.run("dpkg-deb", ["-f", meta, "Depends"])
        guard
            let package = depends.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) })
                .map({ String($0.split(separator: " ")[0]) }).first(where: { $0.hasPrefix("linux-image-") })
        else { throw WireError(.modePrerequisites, "linux-image-amd64 depends on no kernel package: \(depends)") }
        progress("kernel package: \(package)")
        let deb = try download(package)
        let version = try HostCommand.run("dpkg-deb", ["-f", deb, "Version"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let root = work + "/kernel"
        try HostCommand.run("dpkg-deb", ["-x", deb, root], timeoutSeconds: 300)
        let boot = (try? FileManager.default.contentsOfDirectory(atPath: root + "/boot")) ?? []
        guard let vmlinuz = boot.first(where: { $0.hasPrefix("vmlinuz-") }) else {
            throw WireError(.modePrerequisites, "\(package) holds no /boot/vmlinuz-*")
        }
        let release = String(vmlinuz.dropFirst("vmlinuz-".count))
        return GuestKernel(
            image: try bootable(root + "/boot/" + vmlinuz, work: work), release: release,
            source: "debian:\(package)_\(version)", modules: root + "/lib/modules/\(release)")
    }

    /// The kernel qemu should boot: an ELF vmlinux as it is; a bzImage decompressed to `work/vmlinux`
    /// where its payload is xz, gzip or zstd and the tool is installed, else the bzImage itself.
    static func bootable(_ path: String, work: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WireError(.modePrerequisites, "cannot read the kernel \(path)")
        }
        if data.starts(with: [0x7F, 0x45, 0x4C, 0x46]) { return path }
        let formats: [(magic: [UInt8], tool: String)] = [
            ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], "xz -dc --single-stream"),
            ([0x28, 0xB5, 0x2F, 0xFD], "zstd -dc"),
            ([0x1F, 0x8B, 0x08], "gzip -dc"),
        ]
        let out = work + "/vmlinux"
        for format in formats {
            guard let tool = format.tool.split(separator: " ").first, Executable.find(String(tool)) != nil,
                let at = data.firstRange(of: Data(format.magic))?.lowerBound
            else { continue }
            _ = try? HostCommand.run(
                "sh",
                ["-c", "tail -c +\(at + 1) \(shellQuoted(path)) | \(format.tool) > \(shellQuoted(out)) 2>/dev/null"],
                timeoutSeconds: 120)
            if let head = FileHandle(forReadingAtPath: out).map({ h in
                defer { try? h.close() }; return h.readData(ofLength: 4)
            }),
                head == Data([0x7F, 0x45, 0x4C, 0x46])
            {
                return out
            }
        }
        try? FileManager.default.removeItem(atPath: out)
        return path
    }

    /// The release in a kernel image: the bzImage header's version string, or an ELF's `Linux version X`.
    static func release(of path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WireError(.modePrerequisites, "cannot read the kernel \(path)")
        }
        let bytes = [UInt8](data)
        // bzImage: HdrS at 0x202, a pointer to the version string (minus 0x200) at 0x20E.
        if bytes.count > 0x210, bytes[0x202..<0x206] == [0x48, 0x64, 0x72, 0x53][...] {
            let at = Int(bytes[0x20E]) | Int(bytes[0x20F]) << 8 + 0x200
            if at < bytes.count {
                let text = bytes[at...].prefix { $0 != 0 && $0 != 0x20 }
                return String(decoding: text, as: UTF8.self)
            }
        }
        if let range = data.firstRange(of: Data("Linux version ".utf8)) {
            let text = bytes[range.upperBound...].prefix { $0 != 0 && $0 != 0x20 }
            return String(decoding: text, as: UTF8.self)
        }
        throw WireError(.modePrerequisites, "\(path) does not look like a Linux kernel (no version string)")
    }

    /// The `.ko` files of `names` and everything they depend on, dependencies first; names that are
    /// built into the kernel (`modules.builtin`) need no file. Throws for a module neither present nor built in.
    func moduleFiles(_ names: [String]) throws -> [String] {
        guard let modules else { return [] }
        var files: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(atPath: modules + "/kernel")
        while let relative = enumerator?.nextObject() as? String {
            guard relative.hasSuffix(".ko") else { continue }
            let name = Self.normalized(
                (relative as NSString).lastPathComponent.replacingOccurrences(of: ".ko", with: ""))
            files[name] = modules + "/kernel/" + relative
        }
        let builtin = Set(
            ((try? String(contentsOfFile: modules + "/modules.builtin", encoding: .utf8)) ?? "")
                .split(separator: "\n").map {
                    Self.normalized(($0 as NSString).lastPathComponent.replacingOccurrences(of: ".ko", with: ""))
                })
        var ordered: [String] = []
        var seen: Set<String> = []
        func visit(_ name: String) throws {
            let name = Self.normalized(name)
            guard !seen.contains(name) else { return }
            seen.insert(name)
            guard let file = files[name] else {
                if builtin.contains(name) { return }
                throw WireError(.modePrerequisites, "kernel \(release) has no module \(name) (\(modules))")
            }
            for dependency in Self.dependencies(of: file) { try visit(dependency) }
            ordered.append(file)
        }
        for name in names {
            if Self.optional.contains(name) && files[Self.normalized(name)] == nil { continue }
            try visit(name)
        }
        return ordered
    }

    /// The `depends=` entry of a module's `.modinfo` section.
    static func dependencies(of file: String) -> [String] {
        guard let data = FileManager.default.contents(atPath: file),
            let range = data.firstRange(of: Data("\u{0}depends=".utf8))
        else { return [] }
        let value = data[range.upperBound...].prefix { $0 != 0 }
        return String(decoding: value, as: UTF8.self).split(separator: ",").map(String.init).filter { !$0.isEmpty }
    }

    static func normalized(_ name: String) -> String { name.replacingOccurrences(of: "-", with: "_") }
}

/// `'…'` for a shell, with embedded quotes escaped.
func shellQuoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
