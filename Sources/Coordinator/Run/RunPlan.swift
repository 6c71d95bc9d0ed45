import Foundation
import Shared

/// An agent a run connects to.
struct AgentTarget: Sendable {
    var role: Role
    var address: Endpoint
}

/// A run: one or more steps (any workload) between the SUT and its peers.
struct RunPlan: Sendable {
    /// The agents, in the order they are connected (the SUT first).
    var agents: [AgentTarget]
    /// The address the peers use to reach the SUT's server side, which it binds.
    var sutDataHost: String
    var token: Token
    var steps: [PlannedStep]
    var outDirectory: String
    /// The command line, for `run.json`.
    var command: String
    var heartbeatTimeoutNs: Int64 = 3_000_000_000
    /// Continue the run in `outDirectory`: keep and skip its finished steps.
    var resume = false
    /// The container modes' image (`nil`: `lockstep-agent:VERSION`).
    var image: String?
    /// Where a container's data lives (`--storage`, `--mysql-storage`).
    var storage: ContainerStorage = .volume
    /// The SUT host's folder for placements' data (`--storage-dir`); `nil`: the host agent's state folder.
    var storageDir: String?
    /// The first port a guest binds (`--guest-ports`).
    var guestPortBase = GuestPorts.defaultBase
    /// How a `kvm` guest is booted.
    var vm = VMSettings()
    /// The container modes' CPU quota (`--container-cpus`), in CPUs.
    var containerCPUs: Double?
    /// How long to wait for an agent still busy with another session (one that just ended may be
    /// stopping its servers); 0: refuse at once.
    var busyWaitNs: Int64 = 30_000_000_000
    /// How long an agent that went away mid-run (restarted, rebooted) is tried again before the run
    /// fails; 0 (the default): the run fails at once, as a short run should.
    var reconnectWaitNs: Int64 = RunPlan.defaultReconnectWaitNs
    /// `--retry-suspect N`: a suspect step runs again up to this many times with what its verdict
    /// suggests (a longer warm-up or window); every attempt is recorded.
    var retrySuspect = 0
    /// Off: a night's plan asks for it (`--reconnect-wait 10s`, minutes for a rebooting host).
    static let defaultReconnectWaitNs: Int64 = 0
    /// A plan's rule: `steps` are its cells, each repeated by the rule; `nil`: each step runs once.
    var repetition: RepetitionRule?
    /// The plan file's text, copied into the results directory as `plan.yaml`.
    var planText: String?

    init(
        sut: Endpoint, peer: Endpoint, sutDataHost: String, token: Token, steps: [PlannedStep], outDirectory: String,
        command: String, heartbeatTimeoutNs: Int64 = 3_000_000_000, resume: Bool = false
    ) {
        self.init(
            sut: sut, peers: [peer], sutDataHost: sutDataHost, token: token, steps: steps, outDirectory: outDirectory,
            command: command, heartbeatTimeoutNs: heartbeatTimeoutNs, resume: resume)
    }

    /// A run with one or more peers, which split each step's load.
    init(
        sut: Endpoint, peers: [Endpoint], sutDataHost: String, token: Token, steps: [PlannedStep],
        outDirectory: String, command: String, heartbeatTimeoutNs: Int64 = 3_000_000_000, resume: Bool = false
    ) {
        agents = [AgentTarget(role: .sut, address: sut)] + peers.map { AgentTarget(role: .peer, address: $0) }
        self.sutDataHost = sutDataHost
        self.token = token
        self.steps = steps
        self.outDirectory = outDirectory
        self.command = command
        self.heartbeatTimeoutNs = heartbeatTimeoutNs
        self.resume = resume
    }

    /// Step ids: the workload's step name, the mode when the run has any other than native, and the
    /// step's place in the plan (`rr-tcp-1`, `rr-tcp-netns-nat-2`). A plan's are its cells' ids
    /// (`rr-tcp-native`), and its steps' ids add the repetition (`rr-tcp-native-r2`).
    var stepIDs: [String] {
        if repetition != nil { return PlanFile.cells(steps).map(\.id) }
        let modes = steps.contains { $0.placement.mode != .native }
        return steps.enumerated().map { i, s in
            modes ? "\(s.stepName)-\(s.placement.mode.rawValue)-\(i + 1)" : "\(s.stepName)-\(i + 1)"
        }
    }

    /// The plan as `run.json` records it: each step's (or cell's) id and encoded spec, secrets redacted.
    var recorded: [RunInfo.PlannedEntry] {
        zip(stepIDs, steps).map { RunInfo.PlannedEntry(id: $0, spec: $1.redacted) }
    }

    /// Why the run cannot start with its agents: a step whose workload needs a peer, and none given.
    var missingPeers: String? {
        guard !agents.contains(where: { $0.role == .peer }) else { return nil }
        let needing = steps.map(\.workload).filter { $0.shape.needsPeers }.map(\.name)
        guard let first = needing.first else { return nil }
        return "\(first) needs at least one peer agent: give --peer, or a lab host with role peer"
    }

    /// The order the steps run in.
    func schedule() -> any StepSchedule {
        guard let repetition else { return FixedSchedule(ids: stepIDs, steps: steps) }
        return PlanSchedule(cells: zip(stepIDs, steps).map { ($0, $1) }, rule: repetition)
    }
}
