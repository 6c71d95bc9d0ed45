import Foundation

/// Finds programs the way the agent starts them (and quickstart checks for them).
package enum Executable {
    /// `name` itself if it contains a slash and is executable; else its first match on PATH, then in
    /// the sbin directories (where Debian puts mariadbd); `nil` if none.
    package static func find(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/local/sbin"]
        return dirs.lazy.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
