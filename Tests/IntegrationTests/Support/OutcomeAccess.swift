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
        try #require(RRWorkload.client(self), "not an RR client result", sourceLocation: sourceLocation)
    }

    /// The peer's Redis result.
    func redis(sourceLocation: SourceLocation = #_sourceLocation) throws -> RedisClientResult {
        try #require(RedisWorkload.client(self), "not a Redis client result", sourceLocation: sourceLocation)
    }

    /// The SUT's Redis result.
    func redisServer(sourceLocation: SourceLocation = #_sourceLocation) throws -> RedisServerResult {
        try #require(RedisWorkload.server(self), "not a Redis server result", sourceLocation: sourceLocation)
    }

    /// The peer's MySQL result.
    func mysql(sourceLocation: SourceLocation = #_sourceLocation) throws -> MySQLClientResult {
        try #require(MySQLWorkload.client(self), "not a MySQL client result", sourceLocation: sourceLocation)
    }

    /// The SUT's MySQL result.
    func mysqlServer(sourceLocation: SourceLocation = #_sourceLocation) throws -> MySQLServerResult {
        try #require(
            sut.result.outcome.as(MySQLServerResult.self), "not a MySQL server result", sourceLocation: sourceLocation)
    }
}
