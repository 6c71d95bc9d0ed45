import Shared

/// How the host agent starts a guest agent: the same binary (or the image's), the lab token, a name.
struct GuestLaunch: Sendable {
    /// This agent's own executable.
    var agentPath: String
    /// The token file the host agent serves with; the guest proves the same token.
    var tokenPath: String
    /// The host agent's name; the guest is `NAME-MODE`.
    var hostName: String
    /// The guest's lease, seconds.
    var leaseSeconds: Double
    /// The host agent's state folder (journal, guest logs, volumes).
    var stateDirectory: String

    /// The guest agent's `serve` arguments.
    func serveArguments(listen: String, tokenPath: String, mode: DeploymentMode, extra: [String] = []) -> [String] {
        [
            "serve", "--listen", listen, "--token-file", tokenPath, "--name", "\(hostName)-\(mode.rawValue)", "--lease",
            String(leaseSeconds), "--guest",
        ] + extra
    }
}

/// A guest placed by a launcher: the answer for the coordinator, and the guest agent's process when it is
/// the host agent's child.
struct PlacedGuest: Sendable {
    var placed: Placed
    var process: ServerProcess?
    /// Where the host agent itself reaches the guest's control port (to wait until it listens).
    var controlFromHost: Endpoint
    /// How long the guest agent may take to listen once placed.
    var readyTimeoutNs: Int64 = 15_000_000_000
    /// A `kvm` guest's qemu threads (the host CPU's breakdown).
    var qemu: QemuThreads? = nil
    /// Host ports held for the guest's published ports (netns-nat), released with it.
    var reserved: PortReservation? = nil
}

/// One deployment mode: what it needs (prerequisites) and how it places a guest agent. Everything a
/// launcher makes is entered in `record` and journaled before it is made, so that
/// ``PlacementJournal/remove(_:)`` (session end) and ``PlacementJournal/sweep()`` (next start) undo it.
protocol ModeLauncher: Sendable {
    /// The mode this launcher places.
    static var mode: DeploymentMode { get }
    /// Missing prerequisites, one line each naming the fix.
    static func problems(_ place: Place, launch: GuestLaunch) -> [String]
    /// Places a guest agent for `place`; `record` and `setup` collect what was made and how.
    static func place(
        _ place: Place, launch: GuestLaunch, journal: PlacementJournal, record: inout GuestRecord,
        setup: inout ModeSetup
    ) throws -> PlacedGuest
}

/// The launcher of each mode with a guest: the registry's one line per mode.
enum ModeLaunchers {
    static func launcher(_ mode: DeploymentMode) -> (any ModeLauncher.Type)? {
        switch mode {
        case .native: nil
        case .netnsNAT: NetnsNAT.self
        case .dockerHost: DockerHost.self
        case .dockerNAT: DockerNAT.self
        case .kvm: KVMGuest.self
        }
    }
}

extension ModeSetup {
    /// Runs a host command and records it.
    mutating func run(_ program: String, _ arguments: [String], input: String? = nil) throws -> String {
        commands.append(HostCommand.describe(program, arguments))
        return try HostCommand.run(program, arguments, input: input)
    }
}
