/// An error of the control protocol or of a run, with a stable code. Crosses the wire as
/// ``WireFailure`` and reaches the user as one line.
package struct WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Stable error codes. New codes may be added; old ones keep their meaning.
    package struct Code: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
        package var rawValue: String
        package init(rawValue: String) { self.rawValue = rawValue }
        package var description: String { rawValue }

        package static let malformedFrame = Code(rawValue: "malformed-frame")
        package static let frameTooLarge = Code(rawValue: "frame-too-large")
        package static let versionMismatch = Code(rawValue: "version-mismatch")
        package static let authenticationFailed = Code(rawValue: "authentication-failed")
        package static let notAuthenticated = Code(rawValue: "not-authenticated")
        package static let busy = Code(rawValue: "busy")
        package static let unexpectedMessage = Code(rawValue: "unexpected-message")
        package static let badStep = Code(rawValue: "bad-step")
        package static let dataPlane = Code(rawValue: "data-plane")
        package static let dataPlaneStalled = Code(rawValue: "data-plane-stalled")
        package static let aborted = Code(rawValue: "aborted")
        package static let timeout = Code(rawValue: "timeout")
        package static let connectionLost = Code(rawValue: "connection-lost")
        package static let unreachable = Code(rawValue: "unreachable")
        package static let tokenFile = Code(rawValue: "token-file")
        package static let results = Code(rawValue: "results")
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
        self.message = message
        self.bytes = bytes
    }

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
