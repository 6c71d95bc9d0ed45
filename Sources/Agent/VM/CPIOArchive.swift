import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// A cpio archive in the "newc" format, the one the Linux kernel unpacks as an initramfs: each
/// entry a 110-byte ASCII header, its NUL-terminated name and its data, each padded to 4 bytes,
/// then a `TRAILER!!!` entry. The kernel accepts several archives one after the other, which is
/// how a boot adds its own small archive (token, address) to the image's.
struct CPIOArchive {
    private let handle: FileHandle
    private var inode: UInt32 = 1
    private var offset = 0

    /// Starts an archive at `path` (created or truncated, mode 0600).
    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw WireError(.modeFailed, "cannot write \(path)") }
        self.handle = handle
    }

    mutating func directory(_ name: String, mode: UInt32 = 0o755) {
        entry(name, mode: UInt32(S_IFDIR) | mode, data: Data(), links: 2)
    }

    mutating func file(_ name: String, mode: UInt32 = 0o644, contents: Data) {
        entry(name, mode: UInt32(S_IFREG) | mode, data: contents)
    }

    mutating func symlink(_ name: String, target: String) {
        entry(name, mode: UInt32(S_IFLNK) | 0o777, data: Data(target.utf8))
    }

    /// Adds every file, folder and link under `root`, named relative to it, in a stable order.
    mutating func add(tree root: String) throws {
        let fm = FileManager.default
        var pending = [""]
        while let relative = pending.popLast() {
            let folder = relative.isEmpty ? root : root + "/" + relative
            for name in try fm.contentsOfDirectory(atPath: folder).sorted() {
                let path = folder + "/" + name
                let entryName = relative.isEmpty ? name : relative + "/" + name
                var st = stat()
                guard lstat(path, &st) == 0 else { continue }
                let permissions = UInt32(st.st_mode) & 0o7777
                switch st.st_mode & S_IFMT {
                case S_IFDIR:
                    directory(entryName, mode: permissions)
                    pending.insert(entryName, at: 0)
                case S_IFLNK:
                    symlink(entryName, target: try fm.destinationOfSymbolicLink(atPath: path))
                case S_IFREG:
                    guard let data = fm.contents(atPath: path) else {
                        throw WireError(.modeFailed, "cannot read \(path) for the initramfs")
                    }
                    file(entryName, mode: permissions, contents: data)
                default:
                    continue
                }
            }
        }
    }

    /// Writes the trailer and closes the file.
    mutating func finish() throws {
        entry("TRAILER!!!", mode: 0, data: Data(), links: 1, inode: 0)
        try handle.close()
    }

    private mutating func entry(_ name: String, mode: UInt32, data: Data, links: UInt32 = 1, inode fixed: UInt32? = nil)
    {
        let ino = fixed ?? inode
        if fixed == nil { inode += 1 }
        let nameBytes = Data(name.utf8) + [0]
        let fields: [UInt32] = [
            ino, mode, 0, 0, links, 0, UInt32(data.count), 0, 0, 0, 0, UInt32(nameBytes.count), 0,
        ]
        var header = Data("070701".utf8)
        for field in fields { header += Data(String(format: "%08X", field).utf8) }
        write(header + nameBytes)
        write(data)
    }

    /// Writes `bytes` and pads to a multiple of four.
    private mutating func write(_ bytes: Data) {
        handle.write(bytes)
        offset += bytes.count
        let pad = (4 - offset % 4) % 4
        if pad > 0 {
            handle.write(Data(count: pad))
            offset += pad
        }
    }
}
