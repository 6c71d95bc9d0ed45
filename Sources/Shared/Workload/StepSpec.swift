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

/// The workloads an agent can run; the wire form of a ``WorkloadSpec``.
package enum Workload: Codable, Equatable, Sendable {
    /// netperf-style request/response.
    case rr(RRSpec)
    /// nuttcp-style bulk transfer.
    case stream(StreamSpec)
    /// Redis GET/SET sweep point.
    case redis(RedisSpec)
    /// MySQL OLTP sweep point.
    case mysql(MySQLSpec)

    /// The parameters, whatever the workload.
    package var spec: any WorkloadSpec {
        switch self {
        case .rr(let s): s
        case .stream(let s): s
        case .redis(let s): s
        case .mysql(let s): s
        }
    }

    /// Warm-up and window length, nanoseconds.
    package var timing: (warmupNs: Int64, durationNs: Int64) { (spec.warmupNs, spec.durationNs) }

    /// Parameter problems, one line each.
    package func problems() -> [String] { spec.problems() }

    /// The workload with the SUT's data address to bind.
    package func binding(_ host: String) -> Workload {
        var s = spec
        s.bindHost = host
        return s.workload
    }

    /// The workload with the SUT's data endpoint as the peer's target.
    package func targeting(_ endpoint: Endpoint) -> Workload {
        var s = spec
        s.target = endpoint
        return s.workload
    }

    /// Short name for labels: `rr`, `stream`, ...
    package var name: String { type(of: spec).kind }
}
