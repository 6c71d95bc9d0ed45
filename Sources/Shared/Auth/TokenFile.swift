import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The per-lab secret both sides prove they hold. Read from a file that only its owner may read.
package struct Token: Sendable {
    /// The secret, as read from the file (surrounding whitespace removed).
    package let bytes: [UInt8]

    package init(bytes: [UInt8]) { self.bytes = bytes }

    /// Reads a token file: refuses a missing or empty file and one readable by group or others.
    package static func load(path: String) throws -> Token {
        // A FIFO or a device (a symlink to /dev/zero) would block or never end: refused unread.
        let data: Data
        do {
            data = try SmallFile.read(path, limit: 4096)
        } catch {
            throw WireError(.tokenFile, "token file: \(error)")
        }
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw WireError(.tokenFile, "cannot read token file \(path): \(String(cString: strerror(errno)))")
        }
        guard st.st_mode & 0o077 == 0 else {
            throw WireError(
                .tokenFile,
                "token file \(path) has mode \(String(st.st_mode & 0o777, radix: 8)); it must not be accessible by group or others (chmod 600)"
            )
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.utf8.count >= 16 else {
            throw WireError(.tokenFile, "token file \(path) holds fewer than 16 characters")
        }
        return Token(bytes: Array(text.utf8))
    }

    /// A fresh random token (64 hex characters) written to `path` with mode 0600.
    @discardableResult
    package static func generate(at path: String) throws -> Token {
        let text = randomBytes(32).map { String(format: "%02x", $0) }.joined()
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw WireError(.tokenFile, "cannot create token file \(path)") }
        defer { close(fd) }
        fchmod(fd, 0o600)
        let bytes = Array((text + "\n").utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else {
            throw WireError(.tokenFile, "cannot write token file \(path)")
        }
        return Token(bytes: Array(text.utf8))
    }
}

/// Cryptographically random bytes (the system generator reads the kernel's getrandom).
package func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
}
