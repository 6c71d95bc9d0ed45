/// The role an agent plays in a step.
package enum Role: String, Codable, Sendable, CaseIterable {
    /// The system under test: runs the server side.
    case sut
    /// The peer load generator: runs the client side.
    case peer
}

/// One step of a run as sent to one agent.
package struct StepSpec: Codable, Equatable, Sendable {
    /// The run this step belongs to.
    package var runID: String
    /// The step, unique within the run.
    package var stepID: String
    /// The role the receiving agent plays.
    package var role: Role
    /// What to run.
    package var workload: Workload

    package init(runID: String, stepID: String, role: Role, workload: Workload) {
        self.runID = runID
        self.stepID = stepID
        self.role = role
        self.workload = workload
    }
}

/// The workloads an agent can run.
package enum Workload: Codable, Equatable, Sendable {
    /// netperf-style request/response.
    case rr(RRSpec)
    /// nuttcp-style bulk transfer.
    case stream(StreamSpec)

    /// Warm-up and window length, nanoseconds.
    package var timing: (warmupNs: Int64, durationNs: Int64) {
        switch self {
        case .rr(let s): (s.warmupNs, s.durationNs)
        case .stream(let s): (s.warmupNs, s.durationNs)
        }
    }

    /// Parameter problems, one line each.
    package func problems() -> [String] {
        switch self {
        case .rr(let s): s.problems()
        case .stream(let s): s.problems()
        }
    }

    /// The workload with the SUT's data address to bind.
    package func binding(_ host: String) -> Workload {
        switch self {
        case .rr(var s):
            s.bindHost = host
            return .rr(s)
        case .stream(var s):
            s.bindHost = host
            return .stream(s)
        }
    }

    /// The workload with the SUT's data endpoint as the peer's target.
    package func targeting(_ endpoint: Endpoint) -> Workload {
        switch self {
        case .rr(var s):
            s.target = endpoint
            return .rr(s)
        case .stream(var s):
            s.target = endpoint
            return .stream(s)
        }
    }

    /// Short name for labels: `rr` or `stream`.
    package var name: String {
        switch self {
        case .rr: "rr"
        case .stream: "stream"
        }
    }
}
