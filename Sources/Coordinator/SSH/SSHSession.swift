import CLibSSH2
import Crypto
import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// Where and how to log in.
struct SSHTarget: Sendable, CustomStringConvertible {
    var user: String
    var host: String
    var port: Int
    /// Private key file (ed25519, ECDSA or RSA, OpenSSH or PEM format).
    var identity: String?
    /// Passphrase of the key, if any.
    var passphrase: String?
    /// OpenSSH known_hosts file the host key is checked against.
    var knownHosts: String
    /// Record an unknown host's key instead of refusing (OpenSSH's StrictHostKeyChecking=accept-new).
    var acceptNew = false
    /// Connect, handshake and each blocking call give up after this long.
    var timeoutMs = 10_000

    /// Parses `user@host:port` (user default root, port default 22).
    init?(_ text: String, identity: String?, knownHosts: String) {
        var rest = Substring(text)
        user = "root"
        if let at = rest.firstIndex(of: "@") {
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
        }
        port = 22
        if let colon = rest.lastIndex(of: ":"), let p = Int(rest[rest.index(after: colon)...]) {
            port = p
            rest = rest[..<colon]
        }
        guard !rest.isEmpty, !user.isEmpty else { return nil }
        host = String(rest)
        self.identity = identity
        self.knownHosts = knownHosts
    }

    var description: String { "\(user)@\(host):\(port)" }
}

/// What a remote command did.
struct RemoteResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// One SSH connection over libssh2: host key checked against known_hosts, public-key login, exec
/// and SFTP. libssh2 handles are not thread-safe, so a session lives on one thread: create, use and
/// close it inside one ``SSHSession/run(_:_:)`` call, which runs on a thread of its own.
final class SSHSession {
    let target: SSHTarget
    private let socketFD: Int32
    private let session: OpaquePointer

    /// Runs `body` with a connected, authenticated session on a dedicated thread; closes it after.
    static func run<T: Sendable>(_ target: SSHTarget, _ body: @escaping @Sendable (SSHSession) throws -> T)
        async throws -> T
    {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                // The session is closed before the caller resumes: a caller that returns and exits
                // the process must not find this thread still inside libssh2 and libcrypto (their
                // exit-time cleanup then crashes it; seen as signal 11 after `agents stop`).
                let result: Result<T, Error>
                do {
                    let session = try SSHSession(target)
                    result = Result { try body(session) }
                    session.close()
                } catch {
                    result = .failure(error)
                }
                continuation.resume(with: result)
            }
            thread.name = "ssh \(target.host)"
            thread.start()
        }
    }

    private static let initialized: Bool = libssh2_init(0) == 0

    private init(_ target: SSHTarget) throws {
        self.target = target
        guard Self.initialized else { throw Self.error("libssh2 failed to initialize") }
        socketFD = try Self.connect(target)
        guard let s = lockstep_ssh_session_init() else {
            Glibc.close(socketFD)
            throw Self.error("cannot create an SSH session")
        }
        session = s
        libssh2_session_set_blocking(session, 1)
        libssh2_session_set_timeout(session, target.timeoutMs)
        do {
            guard libssh2_session_handshake(session, socketFD) == 0 else {
                throw Self.error("SSH handshake with \(target) failed: \(lastError())")
            }
            try verifyHostKey()
            try authenticate()
        } catch {
            close()
            throw error
        }
    }

    private func close() {
        libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, "bye", "")
        libssh2_session_free(session)
        Glibc.close(socketFD)
    }

    // MARK: host key

    private func verifyHostKey() throws {
        var length = 0
        var type: Int32 = 0
        guard let key = libssh2_session_hostkey(session, &length, &type) else {
            throw Self.error("\(target) sent no host key")
        }
        let fingerprint = hostKeyFingerprint()
        guard let known = libssh2_knownhost_init(session) else { throw Self.error("cannot read known hosts") }
        defer { libssh2_knownhost_free(known) }
        if FileManager.default.fileExists(atPath: target.knownHosts),
            lockstep_knownhost_read(known, target.knownHosts) < 0
        {
            throw Self.error("cannot read known_hosts \(target.knownHosts): \(lastError())")
        }
        let typeMask = lockstep_knownhost_plain_raw() | lockstep_knownhost_keybits(type)
        var entry: UnsafeMutablePointer<libssh2_knownhost>?
        let check = libssh2_knownhost_checkp(known, target.host, Int32(target.port), key, length, typeMask, &entry)
        switch check {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH:
            return
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
            let recorded = entry.map { String(cString: $0.pointee.key) } ?? "?"
            throw SSHError(
                .hostKey,
                "HOST KEY MISMATCH for \(target.host):\(target.port): it presents \(fingerprint), known_hosts "
                    + "(\(target.knownHosts)) records another key (\(Self.fingerprint(base64Key: recorded))); "
                    + "if the host was reinstalled, remove its line from known_hosts")
        case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND where target.acceptNew:
            let name = target.port == 22 ? target.host : "[\(target.host)]:\(target.port)"
            guard libssh2_knownhost_addc(known, name, nil, key, length, nil, 0, typeMask, nil) == 0,
                lockstep_knownhost_write(known, target.knownHosts) == 0
            else { throw Self.error("cannot record the host key of \(target) in \(target.knownHosts)") }
        case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
            throw SSHError(
                .hostKey,
                "unknown host key for \(target.host):\(target.port) (\(fingerprint)): not in \(target.knownHosts); "
                    + "add it, or pass --accept-new to record it on first use")
        default:
            throw Self.error("cannot check the host key of \(target): \(lastError())")
        }
    }

    private func hostKeyFingerprint() -> String {
        guard let hash = libssh2_hostkey_hash(session, LIBSSH2_HOSTKEY_HASH_SHA256) else { return "SHA256:?" }
        let bytes = Data(bytes: hash, count: 32)
        return "SHA256:" + bytes.base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// OpenSSH-style fingerprint of a base64 key blob as known_hosts stores it.
    private static func fingerprint(base64Key: String) -> String {
        guard let blob = Data(base64Encoded: base64Key) else { return "unreadable" }
        return "SHA256:" + Data(SHA256.hash(data: blob)).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    // MARK: authentication

    private func authenticate() throws {
        let offered =
            libssh2_userauth_list(session, target.user, UInt32(target.user.utf8.count)).map { String(cString: $0) }
            ?? ""
        if libssh2_userauth_authenticated(session) == 1 { return }
        guard offered.split(separator: ",").contains("publickey") else {
            throw SSHError(
                .auth, "\(target) does not offer public-key login (it offers: \(offered.isEmpty ? "none" : offered))"
            )
        }
        if let identity = target.identity {
            guard FileManager.default.isReadableFile(atPath: identity) else {
                throw SSHError(.auth, "identity file \(identity) is missing or unreadable")
            }
            if lockstep_ssh_auth_key(session, target.user, identity, target.passphrase) == 0 { return }
            throw SSHError(
                .auth,
                "\(target) refused the key \(identity) for \(target.user): \(lastError()) (server offers: \(offered))")
        }
        try authenticateWithAgent(offered: offered)
    }

    private func authenticateWithAgent(offered: String) throws {
        guard let agent = libssh2_agent_init(session) else { throw Self.error("cannot use ssh-agent") }
        defer { libssh2_agent_free(agent) }
        guard libssh2_agent_connect(agent) == 0 else {
            throw SSHError(.auth, "no identity file given and no ssh-agent reachable (SSH_AUTH_SOCK)")
        }
        defer { libssh2_agent_disconnect(agent) }
        guard libssh2_agent_list_identities(agent) == 0 else { throw Self.error("ssh-agent lists no identities") }
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
        while libssh2_agent_get_identity(agent, &identity, previous) == 0 {
            if libssh2_agent_userauth(agent, target.user, identity) == 0 { return }
            previous = identity
        }
        throw SSHError(
            .auth, "\(target) refused every ssh-agent key for \(target.user) (server offers: \(offered))")
    }

    // MARK: exec and SFTP

    /// Runs `command` through the remote shell; its exit status and output.
    func exec(_ command: String) throws -> RemoteResult {
        guard let channel = lockstep_ssh_channel_open(session) else {
            throw Self.error("cannot open a channel to \(target): \(lastError())")
        }
        defer { libssh2_channel_free(channel) }
        guard lockstep_ssh_channel_exec(channel, command) == 0 else {
            throw Self.error("cannot run a command on \(target): \(lastError())")
        }
        let stdout = try drain(channel, stream: 0, command: command)
        let stderr = try drain(channel, stream: Int32(SSH_EXTENDED_DATA_STDERR), command: command)
        libssh2_channel_close(channel)
        libssh2_channel_wait_closed(channel)
        return RemoteResult(status: libssh2_channel_get_exit_status(channel), stdout: stdout, stderr: stderr)
    }

    /// Runs `command`; throws with its stderr when it exits non-zero.
    @discardableResult
    func check(_ command: String, what: String) throws -> String {
        let result = try exec(command)
        guard result.status == 0 else {
            let detail = (result.stderr.isEmpty ? result.stdout : result.stderr).trimmingCharacters(
                in: .whitespacesAndNewlines)
            throw SSHError(.remoteCommand, "\(what) on \(target.host) failed (exit \(result.status)): \(detail)")
        }
        return result.stdout
    }

    private func drain(_ channel: OpaquePointer, stream: Int32, command: String) throws -> String {
        var out = Data()
        var buffer = [CChar](repeating: 0, count: 32_768)
        while true {
            let n = buffer.withUnsafeMutableBufferPointer {
                lockstep_ssh_channel_read(channel, stream, $0.baseAddress, $0.count)
            }
            if n > 0 {
                buffer.withUnsafeBytes { out.append(contentsOf: $0.prefix(n)) }
            } else if n == 0 {
                return String(decoding: out, as: UTF8.self)
            } else {
                throw Self.error(
                    "reading the output of `\(command.prefix(60))` (stream \(stream)) from \(target) failed: \(lastError())"
                )
            }
        }
    }

    /// Writes `data` to `remotePath` with `mode` over SFTP.
    func upload(_ data: Data, to remotePath: String, mode: Int32) throws {
        guard let sftp = libssh2_sftp_init(session) else {
            throw Self.error("SFTP to \(target) failed: \(lastError())")
        }
        defer { libssh2_sftp_shutdown(sftp) }
        guard let handle = lockstep_sftp_open(sftp, remotePath, UInt(lockstep_sftp_flags_write()), Int(mode)) else {
            throw SSHError(.remoteCommand, "cannot create \(remotePath) on \(target.host): \(lastError())")
        }
        defer { _ = lockstep_sftp_close(handle) }
        var offset = 0
        try data.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = libssh2_sftp_write(
                    handle, raw.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self),
                    min(raw.count - offset, 1 << 20))
                guard n > 0 else { throw SSHError(.remoteCommand, "writing \(remotePath) on \(target.host) failed") }
                offset += n
            }
        }
    }

    /// Reads `remotePath` over SFTP.
    func download(_ remotePath: String) throws -> Data {
        guard let sftp = libssh2_sftp_init(session) else {
            throw Self.error("SFTP to \(target) failed: \(lastError())")
        }
        defer { libssh2_sftp_shutdown(sftp) }
        guard let handle = lockstep_sftp_open(sftp, remotePath, UInt(lockstep_sftp_flags_read()), 0) else {
            throw SSHError(.remoteCommand, "cannot open \(remotePath) on \(target.host): \(lastError())")
        }
        defer { _ = lockstep_sftp_close(handle) }
        var out = Data()
        var buffer = [CChar](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBufferPointer { libssh2_sftp_read(handle, $0.baseAddress, $0.count) }
            if n > 0 {
                buffer.withUnsafeBytes { out.append(contentsOf: $0.prefix(n)) }
            } else if n == 0 {
                return out
            } else {
                throw SSHError(.remoteCommand, "reading \(remotePath) on \(target.host) failed")
            }
        }
    }

    // MARK: helpers

    private func lastError() -> String {
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &message, &length, 0)
        return message.map { String(cString: $0) + " (\(code))" } ?? "error \(code)"
    }

    private static func error(_ message: String) -> SSHError { SSHError(.ssh, message) }

    /// A TCP connection to the target, within its timeout.
    private static func connect(_ target: SSHTarget) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(target.host, String(target.port), &hints, &result) == 0, let info = result else {
            throw WireError(.unreachable, "cannot resolve \(target.host)")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw WireError(.unreachable, "socket: \(String(cString: strerror(errno)))") }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        var rc = Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen)
        if rc != 0 && errno == EINPROGRESS {
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            rc = poll(&poller, 1, Int32(target.timeoutMs)) == 1 ? 0 : -1
            if rc == 0 {
                var soError: Int32 = 0
                var len = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
                if soError != 0 {
                    errno = soError
                    rc = -1
                }
            } else {
                errno = ETIMEDOUT
            }
        }
        guard rc == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw WireError(.unreachable, "cannot reach SSH at \(target.host):\(target.port): \(reason)")
        }
        _ = fcntl(fd, F_SETFL, flags)
        return fd
    }
}
