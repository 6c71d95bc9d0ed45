/// An error of the control protocol or of a run, with a stable code. Crosses the wire as
/// ``WireFailure`` and reaches the user as one line.
package struct WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Stable error codes. New codes may be added; old ones keep their meaning.
    package struct Code: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        /// The code as it appears on the wire and to users.
        package var rawValue: String
        package init(rawValue: String) { self.rawValue = rawValue }
        /// The code and message (and offending bytes) on one line.
        package var description: String { rawValue }

        /// A frame that cannot be decoded.
        package static let malformedFrame = Code(rawValue: "malformed-frame")
        /// A length prefix above the limit.
        package static let frameTooLarge = Code(rawValue: "frame-too-large")
        /// The peers speak different protocol versions.
        package static let versionMismatch = Code(rawValue: "version-mismatch")
        /// A proof did not match the token.
        package static let authenticationFailed = Code(rawValue: "authentication-failed")
        /// A command before the handshake finished.
        package static let notAuthenticated = Code(rawValue: "not-authenticated")
        /// The agent serves another coordinator.
        package static let busy = Code(rawValue: "busy")
        /// A message that does not fit the state.
        package static let unexpectedMessage = Code(rawValue: "unexpected-message")
        /// Step parameters the agent cannot run.
        package static let badStep = Code(rawValue: "bad-step")
        /// A socket error on the data plane.
        package static let dataPlane = Code(rawValue: "data-plane")
        /// No data moved for too long (a cut link, a hung server).
        package static let dataPlaneStalled = Code(rawValue: "data-plane-stalled")
        /// A deployment mode could not be set up or torn down on the host.
        package static let modeFailed = Code(rawValue: "mode-failed")
        /// A deployment mode's prerequisites are missing on a host.
        package static let modePrerequisites = Code(rawValue: "mode-prerequisites")
        /// The run was aborted.
        package static let aborted = Code(rawValue: "aborted")
        /// An answer or heartbeat did not come in time.
        package static let timeout = Code(rawValue: "timeout")
        /// The control connection closed.
        package static let connectionLost = Code(rawValue: "connection-lost")
        /// A connection could not be made.
        package static let unreachable = Code(rawValue: "unreachable")
        /// The token file is missing, unreadable or too open.
        package static let tokenFile = Code(rawValue: "token-file")
        /// The results directory cannot be written.
        package static let results = Code(rawValue: "results")
        /// A server the agent manages (redis-server, mariadbd) is missing, failed to start or died.
        package static let serverFailed = Code(rawValue: "server-failed")
        /// An SSH connection failed (handshake, channel, SFTP).
        package static let ssh = Code(rawValue: "ssh")
        /// A host key is unknown or does not match known_hosts.
        package static let sshHostKey = Code(rawValue: "ssh-host-key")
        /// The SSH server refused every key offered.
        package static let sshAuth = Code(rawValue: "ssh-auth")
        /// A command run over SSH failed.
        package static let remoteCommand = Code(rawValue: "remote-command")
        /// A lab file is missing or malformed.
        package static let labFile = Code(rawValue: "lab-file")
        /// A plan file is missing or malformed, or names what cannot run.
        package static let planFile = Code(rawValue: "plan-file")
        /// A server answered with an error or with something its protocol does not allow.
        package static let serverProtocol = Code(rawValue: "server-protocol")
    }

    /// What kind of failure this is.
    package var code: Code
    /// Human-readable detail, one line.
    package var message: String
    /// The offending bytes, for frame errors (the header and the start of the payload).
    package var bytes: [UInt8]

    /// Creates an error with a code and a one-line message.
    package init(_ code: Code, _ message: String, bytes: [UInt8] = []) {
        self.code = code
        self.message = message.oneLine
        self.bytes = bytes
    }

    /// The code and message (and offending bytes) on one line.
    package var description: String {
        guard !bytes.isEmpty else { return "\(code): \(message)" }
        let hex = bytes.prefix(16).map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: " ")
        return "\(code): \(message) [bytes: \(hex)]"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
