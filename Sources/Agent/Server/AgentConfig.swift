import Foundation
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
    /// The token file, which guest agents this agent places serve with too.
    var tokenPath = ""
    /// The agent's state folder: the journal of placed guests, their logs and volumes.
    var stateDirectory = AgentConfig.defaultStateDirectory
    /// Whether this agent is a guest another agent placed (it then sweeps nothing at start).
    var isGuest = false
    /// Where the SUT's data goes in a guest whose placement gives it storage of its own (a
    /// container's volume, a `kvm` guest's disk): a started MySQL server's data when the step names
    /// no volume, fio's file; `nil`: the step's storage folder, else the state folder.
    var dataDirectory: String?

    /// `lockstep-agent-state` in the temporary directory.
    static var defaultStateDirectory: String { NSTemporaryDirectory() + "lockstep-agent-state" }

    /// This agent's own executable (what guests run, and what `image build` and `vm build` put in by default).
    static var ownExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// How the host agent starts guest agents.
    var guestLaunch: GuestLaunch {
        GuestLaunch(
            agentPath: Self.ownExecutable,
            tokenPath: tokenPath, hostName: name, leaseSeconds: Double(leaseNs) / 1e9,
            stateDirectory: URL(fileURLWithPath: stateDirectory).standardizedFileURL.path)
    }
}
