/// Where the SUT's redis-server comes from.
package struct RedisServerSpec: Codable, Equatable, Sendable {
    /// A server that is already running: the SUT agent starts and stops nothing.
    package var external: Endpoint?
    /// The `redis-server` binary the SUT agent starts; `nil` looks it up on the agent's PATH.
    package var binary: String?
    /// The port the started server listens on; `nil` picks a free one.
    package var port: Int?
    package init(external: Endpoint? = nil, binary: String? = nil, port: Int? = nil) {
        self.external = external
        self.binary = binary
        self.port = port
    }
}

/// One point of the paper's Redis sweep: a redis-server on the SUT, `connections` clients on the
/// peer, each keeping up to `pipeline` requests in flight, a GET/SET mix over 10-character keys
/// that grow the data set as the run goes.
package struct RedisSpec: OpenLoopSpec {
    /// Client connections (the sweep's variable).
    package var connections: Int
    /// Requests each connection keeps in flight.
    package var pipeline: Int
    /// Load-generator threads; `nil`: one per CPU of the peer, at most one per connection.
    package var threads: Int?
    /// GETs per `getRatio + setRatio` requests.
    package var getRatio: Int
    /// SETs per `getRatio + setRatio` requests.
    package var setRatio: Int
    /// Smallest value size in bytes.
    package var valueSizeMin: Int
    /// Largest value size in bytes (equal to `valueSizeMin` for a fixed size).
    package var valueSizeMax: Int
    /// Cap on distinct keys; `nil`: every SET creates a new key.
    package var keys: Int?
    /// Seed of the key and value sequence.
    package var seed: UInt64
    /// Empty the database before the point (FLUSHALL).
    package var flush: Bool
    /// The server the SUT runs or points at.
    package var server: RedisServerSpec
    /// With several peers, this peer's slice of the key space (see ``Workload/split(among:)``);
    /// `nil` for the only peer, and in the spec the SUT and run.json get.
    package var partition: KeyPartition?
    /// Open loop: intended requests per second over all connections, each connection keeping at
    /// most `pipeline` in flight; `nil`: closed loop.
    package var rate: Double?

    package init(
        connections: Int, pipeline: Int = 10, threads: Int? = nil, getRatio: Int = 1, setRatio: Int = 1,
        valueSizeMin: Int = 50, valueSizeMax: Int = 50, keys: Int? = nil, seed: UInt64 = 1, flush: Bool = true,
        server: RedisServerSpec = .init()
    ) {
        self.connections = connections
        self.pipeline = pipeline
        self.threads = threads
        self.getRatio = getRatio
        self.setRatio = setRatio
        self.valueSizeMin = valueSizeMin
        self.valueSizeMax = valueSizeMax
        self.keys = keys
        self.seed = seed
        self.flush = flush
        self.server = server
    }

    /// Largest key count the 10-character key format (`k` and 9 digits) can name.
    package static let maxKeys = 1_000_000_000
    /// Largest value accepted.
    package static let maxValueSize = 1 << 20

    package func problems() -> [String] {
        var out: [String] = []
        if !(1...10_000).contains(connections) { out.append("connections must be 1...10000, got \(connections)") }
        if !(1...1000).contains(pipeline) { out.append("pipeline must be 1...1000, got \(pipeline)") }
        if let t = threads, !(1...256).contains(t) { out.append("threads must be 1...256, got \(t)") }
        if getRatio < 0 || setRatio < 0 || getRatio + setRatio == 0 {
            out.append("ratio must be GET:SET with non-negative parts, not both 0; got \(getRatio):\(setRatio)")
        }
        if setRatio == 0 && flush {
            out.append("a GET-only mix on a flushed database only misses: give SETs a share")
        }
        if !(1...Self.maxValueSize).contains(valueSizeMin) || valueSizeMax < valueSizeMin
            || valueSizeMax > Self.maxValueSize
        {
            out.append(
                "value size must be 1...\(Self.maxValueSize) bytes (min <= max), got \(valueSizeMin)-\(valueSizeMax)")
        }
        if let k = keys, !(1...Self.maxKeys).contains(k) { out.append("keys must be 1...\(Self.maxKeys), got \(k)") }
        if let p = server.port, !(1...65_535).contains(p) { out.append("redis port must be 1...65535, got \(p)") }
        return out + OpenLoop.problems(rate)
    }
}

extension RedisSpec {
    package static let kind = "redis"

    /// `50` or `32-64`.
    package var valueSizeLabel: String {
        valueSizeMin == valueSizeMax ? String(valueSizeMin) : "\(valueSizeMin)-\(valueSizeMax)"
    }

    package var labels: [String: String] {
        [
            "connections": String(connections), "pipeline": String(pipeline), "ratio": "\(getRatio):\(setRatio)",
            "value_bytes": valueSizeLabel,
        ].merging(OpenLoop.labels(rate)) { a, _ in a }
    }

    package var stepName: String { "redis-c\(connections)" + OpenLoop.suffix(rate) }

    package var summary: String {
        "redis \(connections) connection(s) x pipeline \(pipeline), GET:SET \(getRatio):\(setRatio), "
            + "\(valueSizeLabel)-byte values" + OpenLoop.summary(rate)
    }

}
