/// The load generator's side of a Redis point; counts cover replies that arrived inside the window.
package struct RedisClientResult: Codable, Equatable, Sendable {
    /// GETs and SETs answered.
    package var operations: UInt64
    /// Latency from a request's write to the read that brought its reply, nanoseconds.
    package var latency: HistogramSnapshot
    /// GETs answered.
    package var gets: UInt64
    /// SETs answered.
    package var sets: UInt64
    /// GETs that found their key.
    package var hits: UInt64
    /// GETs that found no key.
    package var misses: UInt64
    /// Error replies.
    package var errors: UInt64
    /// GET hits whose value differed from what the SET wrote.
    package var valueMismatches: UInt64
    /// Distinct keys the sequence created by the end of the step.
    package var keys: UInt64
    /// The generator's threads.
    package var load: LoadThreads

    package init(
        operations: UInt64, latency: HistogramSnapshot, gets: UInt64, sets: UInt64, hits: UInt64, misses: UInt64,
        errors: UInt64, valueMismatches: UInt64, keys: UInt64, load: LoadThreads
    ) {
        self.operations = operations
        self.latency = latency
        self.gets = gets
        self.sets = sets
        self.hits = hits
        self.misses = misses
        self.errors = errors
        self.valueMismatches = valueMismatches
        self.keys = keys
        self.load = load
    }
}

/// The SUT's side of a Redis point, read from the server when the step stopped.
package struct RedisServerResult: Codable, Equatable, Sendable {
    /// DBSIZE; `nil` when the server could not be asked.
    package var keys: UInt64?
    /// INFO memory `used_memory`, bytes; `nil` when the server could not be asked.
    package var usedMemoryBytes: Double?

    package init(keys: UInt64?, usedMemoryBytes: Double?) {
        self.keys = keys
        self.usedMemoryBytes = usedMemoryBytes
    }
}
