/// A workload, declared once: its stable name, its spec, its typed results per side, its shape
/// (who takes part, who ends the window, endpoint, guest port, how peers split the load) and its
/// metric catalog. The step machine, splitting, results, tables, aggregates, report and exporters
/// ask the type; none switches on the workload. The agent adds its engines (`EngineWorkload`) and
/// the coordinator its rows and figures (`WorkloadMetrics`) by conformance, so a workload is one
/// type across the three modules, found by name in ``WorkloadRegistry``.
package protocol WorkloadType: Sendable {
    /// The workload's own parameters.
    associatedtype Spec: WorkloadSpec
    /// The stable name: the key of its encoded spec (`{"rr": {...}}`), the `workload` label, the
    /// plan's experiment key. Equal to `Spec.kind`.
    static var name: String { get }
    /// Who takes part and how the window ends.
    static var shape: WorkloadShape { get }
    /// Every metric the workload reports, and its headline.
    static var catalog: MetricCatalog { get }
    /// The typed results its sides report (decoded by their `resultKind`).
    static var resultTypes: [any WorkloadResult.Type] { get }
    /// The result type the agent in `role` (sut or peer) reports for `spec`.
    static func resultType(of spec: Spec, role: Role) -> (any WorkloadResult.Type)?
    /// What the peers split: flows, streams, connections, threads (1 when nothing splits).
    static func loadUnits(of spec: Spec) -> Int
    /// Part `part` of `count` peers' shares, carrying `units` of the load.
    static func share(of spec: Spec, units: Int, part: Int, of count: Int) -> Spec
    /// The spec without secrets, as run.json records it.
    static func redacted(_ spec: Spec) -> Spec
    /// The metric an interval sample's per-second completions are reported as; `nil`: the common
    /// `transactions_per_sec`.
    static var intervalRate: Metric? { get }
    /// Whether the per-second samples of the agent in `role` count (bulk: only the receiver's).
    static func countsIntervals(of spec: Spec, role: Role) -> Bool
    /// What the spec keeps on the SUT's storage, for the prerequisite check: bytes, and whether it
    /// opens them with O_DIRECT; `nil`: nothing lockstep sizes.
    static func storageNeed(of spec: Spec) -> StorageNeed?
    /// The spec with its data scaled by `factor` (`lockstep run --scale`: MySQL's table, fio's file);
    /// the step's windows are scaled by the plan.
    static func scaled(_ spec: Spec, by factor: Double) -> Spec
}

/// What a step keeps on the SUT's storage.
package struct StorageNeed: Equatable, Sendable {
    package var bytes: Int64
    package var directIO: Bool

    package init(bytes: Int64, directIO: Bool) {
        self.bytes = bytes
        self.directIO = directIO
    }
}

extension WorkloadType {
    /// `Spec.kind`.
    package static var name: String { Spec.kind }
    /// What the peers split.
    package static func loadUnits(of spec: Spec) -> Int { 1 }
    /// A peer's share of the load: `units` of it.
    package static func share(of spec: Spec, units: Int, part: Int, of count: Int) -> Spec { spec }
    /// The spec without secrets.
    package static func redacted(_ spec: Spec) -> Spec { spec }
    /// The metric of its per-second rate.
    package static var intervalRate: Metric? { nil }
    /// Every side's per-second samples count.
    package static func countsIntervals(of spec: Spec, role: Role) -> Bool { true }
    /// Nothing sized on storage.
    package static func storageNeed(of spec: Spec) -> StorageNeed? { nil }
    /// Nothing to scale but the windows.
    package static func scaled(_ spec: Spec, by factor: Double) -> Spec { spec }

    /// ``scaled(_:by:)`` for a step's workload.
    package static func scaledWorkload(_ spec: any WorkloadSpec, by factor: Double) -> Workload {
        (spec as? Spec).map { Workload(scaled($0, by: factor)) } ?? Workload(spec)
    }

    /// ``storageNeed(of:)`` for a step's spec.
    package static func storageNeed(_ spec: any WorkloadSpec) -> StorageNeed? {
        (spec as? Spec).flatMap { storageNeed(of: $0) }
    }

    /// ``countsIntervals(of:role:)`` for a step's spec.
    package static func reportsIntervals(_ spec: any WorkloadSpec, role: Role) -> Bool {
        (spec as? Spec).map { countsIntervals(of: $0, role: role) } ?? true
    }
}

/// One side's typed result of a workload. A field that is missing on the wire is a decode error,
/// never a zero.
package protocol WorkloadResult: Codable, Equatable, Sendable {
    /// Stable name of this result on the wire: `rrClient`.
    static var resultKind: String { get }
    /// Several peers' results as one (counts add, histograms merge exactly); `nil` where results
    /// of this kind do not add up.
    static func merged(_ all: [Self]) -> Self?
    /// Transactions or operations this side completed in the window, where it counts them.
    var completions: UInt64? { get }
    /// An external engine's version and exact command line (fio), for run.json; `nil` for lockstep's own.
    var engineCommand: String? { get }
    /// A load generator's (or bulk end's) threads, their CPU, series and gaps, for the validity checks;
    /// `nil` for a result without threads of lockstep's own.
    var generatorLoad: LoadThreads? { get }
}

extension WorkloadResult {
    /// Several peers' results as one.
    package static func merged(_ all: [Self]) -> Self? { all.count == 1 ? all[0] : nil }
    /// Operations it completed in the window.
    package var completions: UInt64? { nil }
    /// lockstep's own engine.
    package var engineCommand: String? { nil }
    /// No generator threads.
    package var generatorLoad: LoadThreads? { nil }
}

/// A result that carries a latency histogram of its operations (the load generators').
package protocol LatencyRecording {
    /// Operation latency, nanoseconds.
    var latency: HistogramSnapshot { get }
}

extension RRClientResult: LatencyRecording {}
extension RedisClientResult: LatencyRecording {}
extension MySQLClientResult: LatencyRecording {}
