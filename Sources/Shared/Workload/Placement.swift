/// Where the SUT's server side runs: the paper's axis.
package enum DeploymentMode: String, Codable, Sendable, CaseIterable {
    /// The SUT agent runs the server side itself, on its host.
    case native
    /// A guest agent in a network namespace behind a bridge, with the DNAT/MASQUERADE/FORWARD rules
    /// Docker installs for published ports, in an nft table of lockstep's own (no container engine).
    case netnsNAT = "netns-nat"
    /// A guest agent in a Docker container with `--net=host`.
    case dockerHost = "docker-host"
    /// A guest agent in a Docker container on the default bridge, every port published.
    case dockerNAT = "docker-nat"
    /// A guest agent in a qemu guest on a bridged tap. Named so plans can list it; this version's
    /// agents answer its prerequisite check with what is missing and place nothing.
    case kvm

    /// Whether the SUT's server side runs in a guest agent the host agent places.
    package var hasGuest: Bool { self != .native }
}

/// Where a step runs: the deployment mode, the CPUs each side is pinned to, the address the SUT's
/// server binds and the endpoint the peer must use. The same for every workload, so engines never
/// ask which mode they run in and workload specs carry only their own parameters.
package struct Placement: Codable, Equatable, Sendable {
    /// The SUT's deployment mode.
    package var mode: DeploymentMode
    /// CPUs the SUT's server side is pinned to (responder, stream endpoint, redis-server, mariadbd);
    /// `nil` leaves it to the scheduler.
    package var sutCPUs: [Int]?
    /// CPUs the peer's load threads are pinned to; `nil` leaves them to the scheduler.
    package var peerCPUs: [Int]?
    /// SUT: the data address its server side binds.
    package var bindHost: String
    /// Peer: the SUT server's data endpoint, as the SUT's ``Ready`` reported it.
    package var target: Endpoint?
    /// SUT: the fixed port its server binds (a guest's published port); `nil`: any free port.
    package var dataPort: Int?
    /// SUT: the host folder under which a workload keeps its data in native and netns-nat (fio's
    /// file); `nil`: the agent's state folder. (A container's or guest's storage is its placement's.)
    package var storageDir: String?
    /// SUT in a container mode: its data on a volume or in the container's layer, when the step says
    /// (a plan's axis); `nil`: the run's `--storage`. A guest is placed per mode and storage.
    package var storage: ContainerStorage?
    /// SUT in `kvm`: the guest's CPU model when the step says (a plan's tuned/untuned pair); `nil`:
    /// the run's `--vm-cpu-model`. A guest is placed per mode, storage and CPU settings.
    package var vmCPUModel: VMCPUModel?
    /// SUT in `kvm`: the guest's topology when the step says; `nil`: the run's `--vm-topology`.
    package var vmTopology: VMTopology?
    /// Peer: the SUT agent's clock minus this agent's, as estimated just before the step (the
    /// coordinator's clock syncs of both); lets the peer read one-way delays off the SUT's stamps.
    /// `nil`: not known, no one-way delays.
    package var sutClockOffsetNs: Int64?

    /// The one default bind address: loopback, so that nothing listens on a network by accident.
    package static let defaultBindHost = "127.0.0.1"

    package init(
        mode: DeploymentMode = .native, sutCPUs: [Int]? = nil, peerCPUs: [Int]? = nil,
        bindHost: String = Placement.defaultBindHost, target: Endpoint? = nil, dataPort: Int? = nil
    ) {
        self.mode = mode
        self.sutCPUs = sutCPUs
        self.peerCPUs = peerCPUs
        self.bindHost = bindHost
        self.target = target
        self.dataPort = dataPort
    }

    /// The CPUs an agent in `role` pins its threads (or its server) to.
    package func cpus(for role: Role) -> [Int]? {
        switch role {
        case .sut: sutCPUs
        case .peer: peerCPUs
        case .host: nil
        }
    }

    /// One line per problem, empty when valid.
    package func problems() -> [String] {
        var out: [String] = []
        for (name, list) in [("--sut-cpus", sutCPUs), ("--peer-cpus", peerCPUs)] {
            guard let list else { continue }
            if list.isEmpty { out.append("\(name) needs at least one CPU") }
            if let bad = list.first(where: { !(0..<1024).contains($0) }) {
                out.append("\(name): CPU \(bad) is out of range 0...1023")
            }
        }
        if bindHost.isEmpty { out.append("the bind address must not be empty") }
        if let p = dataPort, !(1...65_535).contains(p) { out.append("the data port must be 1...65535, got \(p)") }
        return out
    }
}
