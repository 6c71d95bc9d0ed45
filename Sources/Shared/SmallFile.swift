import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reads the small files users point lockstep at (token, plan, lab, password files) without ever
/// blocking or reading without end: a FIFO, a device (a symlink to /dev/zero), a directory or a
/// file over the limit is refused with one line, before anything is read.
package enum SmallFile {
    /// Why a file was refused: one line naming it.
    package struct Refusal: Error, CustomStringConvertible {
        package let description: String
    }

    /// The contents of the regular file at `path` (symlinks followed), at most `limit` bytes.
    package static func read(_ path: String, limit: Int) throws(Refusal) -> Data {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw Refusal(description: "cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw Refusal(description: "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        let type = st.st_mode & S_IFMT
        guard type == S_IFREG else {
            let kind: String
            switch type {
            case S_IFIFO: kind = "a FIFO"
            case S_IFCHR: kind = "a character device"
            case S_IFBLK: kind = "a block device"
            case S_IFDIR: kind = "a directory"
            case S_IFSOCK: kind = "a socket"
            default: kind = "not a regular file"
            }
            throw Refusal(description: "\(path) is \(kind), not a regular file")
        }
        guard Int(st.st_size) <= limit else {
            throw Refusal(description: "\(path) is \(Self.size(Int(st.st_size))); at most \(Self.size(limit)) is read")
        }
        var data = Data(count: limit + 1)
        var total = 0
        while total <= limit {
            let n = data.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + total, limit + 1 - total) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw Refusal(description: "cannot read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            total += n
        }
        // A file that grew while read.
        guard total <= limit else { throw Refusal(description: "\(path) is over \(Self.size(limit))") }
        return data.prefix(total)
    }

    /// The file's text (UTF-8), at most `limit` bytes.
    package static func text(_ path: String, limit: Int) throws(Refusal) -> String {
        String(decoding: try read(path, limit: limit), as: UTF8.self)
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1 << 20
            ? String(format: "%.1f MiB", Double(bytes) / 1_048_576)
            : bytes >= 1024 ? String(format: "%.0f KiB", Double(bytes) / 1024) : "\(bytes) bytes"
    }
}
