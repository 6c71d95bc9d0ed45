import ArgumentParser
import Foundation
import Shared

/// `lockstep redis`: the paper's Redis sweep. The SUT agent runs redis-server (or points at one
/// already running), the peer drives GET/SET load over more and more connections; one step per
/// connection count.
struct RedisCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis",
        abstract: "Redis GET/SET throughput and latency as client connections grow (redis-server on the SUT).")

    @OptionGroup var agents: AgentOptions
    @OptionGroup var options: RedisOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var observe: ObserveOptions

    func validate() throws { try output.requireDirectory() }

    func run() async throws { try await CLI.runWorkloads(options, agents: agents, output: output, observe: observe) }
}

/// `redis`'s own options, with timing and placement: what the command line and a plan's `redis` experiment set.
struct RedisOptions: WorkloadOptions {
    static let name = "redis"

    @Option(help: "Connection counts of the sweep, comma-separated; one step each.")
    var connections: CommaList<Int> = CommaList([1, 2, 4, 8, 16, 32, 64, 100])

    @Option(help: "Requests each connection keeps in flight.")
    var pipeline: Int = 10

    @Option(help: "Load-generator threads on the peer (default: one per CPU, at most one per connection).")
    var threads: Int?

    @Option(help: "GET:SET mix.")
    var ratio: String = "1:1"

    @Option(help: "Value size in bytes, fixed (50) or a uniform range (32-64).")
    var valueSize: String = "50"

    @Option(help: "Cap on distinct keys (default: every SET creates a new key).")
    var keys: Int?

    @Option(help: "Seed of the key and value sequence.")
    var seed: UInt64 = 1

    @Flag(help: "Do not FLUSHALL before each point (the default empties the database, also an external one).")
    var noFlush = false

    @Option(help: "Use this running server (HOST:PORT as the agents see it) instead of starting one on the SUT.")
    var redis: Endpoint?

    @Option(help: "redis-server binary the SUT agent starts (default: redis-server on its PATH).")
    var redisServer: String?

    @Option(help: "Port of the started redis-server (default: a free port).")
    var redisPort: Int?

    @Option(help: "CPU the started redis-server is pinned to (another spelling of --sut-cpus N).")
    var redisCpu: Int?

    @Option(
        help:
            "Open loop: requests per second over all connections, each sent at its intended time and timed from it, at most --pipeline in flight per connection (20000, 20k); a comma-separated list sweeps them, stopping where the server saturates. Default: closed loop."
    )
    var rate: CommaList<RateArgument>?

    @OptionGroup var timing: TimingOptions

    @OptionGroup var placement: PlacementOptions

    func validate() throws {
        let specs = try makeSpecs()
        for spec in specs {
            if let problem = spec.problems().first { throw ValidationError(problem) }
        }
        if redis != nil && (redisServer != nil || redisPort != nil || redisCpu != nil || placement.sutCpus != nil) {
            throw ValidationError(
                "--redis targets a running server: --redis-server, --redis-port and --redis-cpu do not apply")
        }
        _ = try sutPlacement()
    }

    /// The placement; `--redis-cpu N` is `--sut-cpus N`.
    func sutPlacement() throws -> Placement { try placement.placement(serverCPU: redisCpu, spelled: "--redis-cpu") }

    func makeSpecs() throws -> [RedisSpec] {
        let counts = connections.values
        let mix = ratio.split(separator: ":").map { Int($0) }
        guard mix.count == 2, let gets = mix[0], let sets = mix[1] else {
            throw ValidationError("--ratio takes GET:SET, e.g. 1:1 or 9:1; got '\(ratio)'")
        }
        let sizes = valueSize.split(separator: "-").map { Int($0) }
        guard (1...2).contains(sizes.count), let low = sizes.first!, let high = sizes.last! else {
            throw ValidationError("--value-size takes a size (50) or a range (32-64); got '\(valueSize)'")
        }
        let server = RedisServerSpec(external: redis, binary: redisServer, port: redisPort)
        return RateArgument.expand(
            counts.map {
                RedisSpec(
                    connections: $0, pipeline: pipeline, threads: threads, getRatio: gets, setRatio: sets,
                    valueSizeMin: low, valueSizeMax: high, keys: keys, seed: seed, flush: !noFlush, server: server)
            }, rate)
    }

    func workloads() throws -> [Workload] { try makeSpecs().map { Workload($0) } }

    func placements() throws -> [Placement] {
        try placement.placements(serverCPU: redisCpu, spelled: "--redis-cpu")
    }
}
