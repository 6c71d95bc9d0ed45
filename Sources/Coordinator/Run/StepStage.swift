import Shared

/// Where one step runs and who takes part: the SUT (in a guest, with the host agent metering, for a
/// mode with one), the peers with their shares, and where the peers reach the SUT's server.
struct StepStage {
    /// The step as sent (a guest's data port and pins applied).
    var step: PlannedStep
    var participants: [(agent: ConnectedAgent, role: Role)]
    /// Peers' shares of the load by link index, when several split it.
    var shares: [Int: Workload] = [:]
    var dataHost: String
    var bindHost: String?
    var portMap: [Int: Int] = [:]
    /// Labels the mode adds to every sample (`accel` of a `kvm` guest).
    var modeLabels: [String: String] = [:]
    private var peers: [(agent: ConnectedAgent, role: Role)] = []

    /// The SUT alone, in native mode (a storage-using workload's data in a folder of the host).
    init(step: PlannedStep, sut: ConnectedAgent, dataHost: String) {
        self.step = step
        participants = [(sut, .sut)]
        self.dataHost = dataHost
        if step.workload.shape.usesStorage { modeLabels["storage"] = "folder" }
    }

    /// The peers join, each with its share (a peer whose share would be empty sits the step out).
    mutating func split(_ workload: Workload, among peerAgents: [ConnectedAgent]) {
        let split = workload.split(among: peerAgents.count)
        peers = zip(peerAgents, split).map { (agent: $0.0, role: Role.peer) }
        if peerAgents.count > 1 {
            shares = Dictionary(zip(peerAgents, split).map { ($0.0.link.index, $0.1) }) { a, _ in a }
        }
        participants += peers
    }

    /// The SUT is the mode's guest; the host agent meters the machine under it.
    mutating func place(in guest: ConnectedAgent, _ placed: Placed, host: ConnectedAgent) {
        step.placement.dataPort = placed.guestPorts?.port(for: step.workload)
        bindHost = placed.guestBindHost
        portMap = Dictionary(placed.published.map { ($0.guestPort, $0.hostPort) }) { a, _ in a }
        participants = [(guest, .sut), (host, .host)] + peers
        dataHost = placed.guestHost ?? dataHost
        if placed.pinnedByHost { step.placement.sutCPUs = nil }
        if let accel = placed.setup?.accel { modeLabels["accel"] = accel }
        if let model = placed.setup?.vm?.cpu_model?.split(separator: " ").first {
            modeLabels["vm_cpu_model"] = String(model)
        }
        if let labels = placed.setup?.storageLabels {
            // The guest keeps its data on its own storage (a volume, its layer, its disk), not in a
            // folder of the host.
            step.placement.storageDir = nil
            if step.workload.shape.usesStorage { modeLabels.merge(labels) { $1 } }
        }
    }
}
