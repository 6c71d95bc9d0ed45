/// Where the SUT's server side runs. Only `native` exists so far; the other modes plug in here.
package enum DeploymentMode: String, Codable, Sendable, CaseIterable {
    /// The SUT agent runs the server side itself, on its host.
    case native
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

    /// The one default bind address: loopback, so that nothing listens on a network by accident.
    package static let defaultBindHost = "127.0.0.1"

    package init(
        mode: DeploymentMode = .native, sutCPUs: [Int]? = nil, peerCPUs: [Int]? = nil,
        bindHost: String = Placement.defaultBindHost, target: Endpoint? = nil
    ) {
        self.mode = mode
        self.sutCPUs = sutCPUs
        self.peerCPUs = peerCPUs
        self.bindHost = bindHost
        self.target = target
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
        return out
    }
}
