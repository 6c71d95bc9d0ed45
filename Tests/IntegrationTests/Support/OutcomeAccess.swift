import Shared
import Testing

@testable import Coordinator

/// Typed access to a step's results in tests: the workload's own result types, and the metric rows
/// samples.jsonl holds (the one seam every table and report reads).
extension StepOutcome {
    /// The first summary row of `metric`.
    func value(_ metric: String) -> Double? {
        samples(runID: "test").first { $0.metric == metric && $0.labels["kind"] != "interval" }?.value
    }

    /// The peer's RR result.
    func rr(sourceLocation: SourceLocation = #_sourceLocation) throws -> RRClientResult {
        try #require(RRMetrics.client(self), "not an RR client result", sourceLocation: sourceLocation)
    }

    /// The peer's Redis result.
    func redis(sourceLocation: SourceLocation = #_sourceLocation) throws -> RedisClientResult {
        try #require(RedisMetrics.client(self), "not a Redis client result", sourceLocation: sourceLocation)
    }

    /// The SUT's Redis result.
    func redisServer(sourceLocation: SourceLocation = #_sourceLocation) throws -> RedisServerResult {
        try #require(RedisMetrics.server(self), "not a Redis server result", sourceLocation: sourceLocation)
    }

    /// The peer's MySQL result.
    func mysql(sourceLocation: SourceLocation = #_sourceLocation) throws -> MySQLClientResult {
        try #require(MySQLMetrics.client(self), "not a MySQL client result", sourceLocation: sourceLocation)
    }

    /// The SUT's MySQL result.
    func mysqlServer(sourceLocation: SourceLocation = #_sourceLocation) throws -> MySQLServerResult {
        guard case .mysqlServer(let r) = sut.result.outcome else {
            Issue.record("not a MySQL server result", sourceLocation: sourceLocation)
            throw MissingResult()
        }
        return r
    }
}

/// Thrown after recording an issue for a result of the wrong kind.
struct MissingResult: Error {}

/// Test steps: a workload with a short timing.
func step(_ workload: Workload, warmupNs: Int64 = 200_000_000, durationNs: Int64 = 1_000_000_000) -> PlannedStep {
    PlannedStep(workload, timing: StepTiming(warmupNs: warmupNs, durationNs: durationNs))
}
