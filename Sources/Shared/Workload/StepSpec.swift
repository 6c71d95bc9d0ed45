/// The role an agent plays in a step.
package enum Role: String, Codable, Sendable, CaseIterable {
    /// The system under test: runs the server side.
    case sut
    /// The peer load generator: runs the client side.
    case peer
}

/// One step of a run as sent to one agent.
package struct StepSpec: Codable, Equatable, Sendable {
    package var runID: String
    package var stepID: String
    package var role: Role
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
}
