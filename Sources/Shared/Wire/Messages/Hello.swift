import Foundation

/// The versioned greeting, first message both ways. Each side sends a fresh nonce that the
/// other side's HMAC proof must cover.
package struct Hello: Codable, Equatable, Sendable {
    /// The protocol version this build speaks.
    package static let currentProtocolVersion = 1

    /// Protocol version of the sender.
    package var protocolVersion: Int
    /// `coordinator` or `agent`.
    package var role: String
    /// The sender's name (agent `--name`, or `coordinator`).
    package var name: String
    /// The sender's software version.
    package var softwareVersion: String
    /// 32 fresh random bytes.
    package var nonce: Data
    /// Agents: the UDP port of the control address that answers clock probes; `nil` without one.
    package var probePort: Int?

    package init(
        protocolVersion: Int = Hello.currentProtocolVersion, role: String, name: String,
        softwareVersion: String, nonce: Data, probePort: Int? = nil
    ) {
        self.protocolVersion = protocolVersion
        self.role = role
        self.name = name
        self.softwareVersion = softwareVersion
        self.nonce = nonce
        self.probePort = probePort
    }
}

/// The coordinator's HMAC-SHA256 proof over both nonces.
package struct Authenticate: Codable, Equatable, Sendable {
    /// HMAC-SHA256 proof over both nonces.
    package var mac: Data
    package init(mac: Data) { self.mac = mac }
}

/// The agent's HMAC-SHA256 proof over both nonces, and its host facts.
package struct Authenticated: Codable, Equatable, Sendable {
    /// HMAC-SHA256 proof over both nonces.
    package var mac: Data
    /// Facts about the agent's host.
    package var host: HostFacts
    package init(mac: Data, host: HostFacts) {
        self.mac = mac
        self.host = host
    }
}

/// Orderly end of a session.
package struct Bye: Codable, Equatable, Sendable {
    package init() {}
}

/// A liveness signal; `tNs` is the sender's monotonic clock.
package struct Heartbeat: Codable, Equatable, Sendable {
    /// Sender's monotonic clock when sent.
    package var tNs: Int64
    package init(tNs: Int64) { self.tNs = tNs }
}

/// A typed error that crosses the wire.
package struct WireFailure: Codable, Equatable, Sendable {
    /// Stable error code.
    package var code: WireError.Code
    /// One line for the user.
    package var message: String
    package init(code: WireError.Code, message: String) {
        self.code = code
        self.message = message
    }
    package init(_ error: WireError) {
        self.init(code: error.code, message: error.message)
    }
    /// The local error this failure stands for.
    package var error: WireError { WireError(code, message) }
}
