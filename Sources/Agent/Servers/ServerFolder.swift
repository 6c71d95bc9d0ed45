import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// Scratch folders and free ports for the servers the agent starts.
enum ServerFolder {
    /// A new folder `prefix.XXXXXX` in `parent` (default: the temporary directory).
    static func make(in parent: String? = nil, prefix: String) throws -> String {
        let base = parent ?? NSTemporaryDirectory()
        var template = Array((base + "/\(prefix).XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw WireError(.serverFailed, "cannot create a folder in \(base): \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }

    /// A port nothing listens on at `host` right now.
    static func freePort(_ host: String) throws -> Int {
        let fd = try Socket.bound(host: host, port: 0, type: Int32(SOCK_STREAM.rawValue))
        defer { close(fd) }
        return Socket.localPort(fd)
    }
}
