/// What every workload's parameters provide, so that agents, runs and results treat workloads alike.
/// Its ``WorkloadType`` declares the rest (shape, results, metrics). Timing, pinning, bind address and target are the step's envelope
/// (``StepSpec``), never a workload's.
package protocol WorkloadSpec: Codable, Equatable, Sendable {
    /// Short name for labels and file names: `rr`, `stream`, `redis`.
    static var kind: String { get }
    /// Checks the parameters; one line per problem, empty when valid.
    func problems() -> [String]
    /// Labels every sample of a step of this workload carries, besides `workload`, `step` and `run`.
    var labels: [String: String] { get }
    /// Step id prefix, e.g. `rr-tcp`, `stream-sut-tx`, `redis-c16`.
    var stepName: String { get }
    /// One line for progress output, without the timing.
    var summary: String { get }
    /// How long the SUT may take to get ready (start a server, load data), nanoseconds.
    var prepareBudgetNs: Int64 { get }
    /// For an engine that runs to completion (hpcc, xz): how long it may run, which bounds the step
    /// instead of its window; `nil`: the step's warm-up and window.
    var completionBudgetNs: Int64? { get }
}

extension WorkloadSpec {
    /// This spec as a step's workload.
    package var workload: Workload { Workload(self) }

    /// Ten seconds: enough to bind a socket or start redis-server.
    package var prepareBudgetNs: Int64 { 10_000_000_000 }

    /// The step's window bounds it.
    package var completionBudgetNs: Int64? { nil }
}
