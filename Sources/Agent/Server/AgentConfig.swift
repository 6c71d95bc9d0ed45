import Shared

/// How an agent serves.
struct AgentConfig: Sendable {
    /// Where the control server listens (port 0: any free port).
    var listen: Endpoint
    /// The lab secret coordinators must prove they hold.
    var token: Token
    /// The agent's name in logs and results.
    var name: String
    /// Silence from the coordinator after which the agent stops all load and servers.
    var leaseNs: Int64 = 3_000_000_000
    /// How often the agent sends heartbeats.
    var heartbeatNs: Int64 = 500_000_000
    /// Time a connection has to complete the handshake.
    var handshakeTimeoutNs: Int64 = 5_000_000_000
    /// Largest frame payload accepted.
    var maxPayload = WireFrame.defaultMaxPayload
    /// Folder for the agent's event log file, if any.
    var logDirectory: String?
}
