import ArgumentParser
import Foundation
import Shared
import Testing

@testable import Agent
@testable import Coordinator

/// Every subcommand parsed in process: the command lines users type become the right specs,
/// timing and placement, and bad ones are refused with the line the user sees. A few process tests
/// (ProcessRunTests, MySQLRunTests) keep checking the exit status and the one-line error.
@Suite struct CommandParseTests {
    static let agents = ["--sut", "127.0.0.1:1", "--peer", "127.0.0.1:2", "--token-file", "/t", "--out", "/tmp/o"]

    /// The message the command prints for a refused command line; `nil` when it parses.
    static func refusal<C: ParsableCommand>(_ type: C.Type, _ arguments: [String]) -> String? {
        do {
            _ = try type.parse(arguments)
            return nil
        } catch {
            return type.message(for: error)
        }
    }

    @Test func rrTakesTypedListsTimingAndPlacement() throws {
        let rr = try RRCommand.parse(
            Self.agents + [
                "--protocol", "tcp,UDP", "--request", "64", "--duration", "2s", "--warmup", "500ms", "--sut-cpus",
                "0,2-3",
                "--peer-cpus", "1",
            ])
        #expect(rr.options.specs().map(\.proto) == [.tcp, .udp])
        #expect(rr.options.specs().allSatisfy { $0.requestSize == 64 && $0.responseSize == 200 })
        #expect(rr.options.timing.timing == StepTiming(warmupNs: 500_000_000, durationNs: 2_000_000_000))
        let placement = try rr.options.placement.placement()
        #expect(placement == Placement(mode: .native, sutCPUs: [0, 2, 3], peerCPUs: [1]))
    }

    @Test func streamDefaultsToBothDirections() throws {
        let stream = try StreamCommand.parse(Self.agents + ["--buffer", "128KiB", "--rate", "5G"])
        #expect(stream.options.specs().map(\.direction) == [.sutTx, .sutRx])
        #expect(stream.options.specs()[0].bufferSize == 131_072)
        #expect(stream.options.specs()[0].rateBitsPerSecond == 5_000_000_000)
    }

    @Test func redisCpuIsASpellingOfSutCpus() throws {
        let redis = try RedisCommand.parse(Self.agents + ["--connections", "1,4,16", "--redis-cpu", "1"])
        #expect(try redis.options.makeSpecs().map(\.connections) == [1, 4, 16])
        #expect(try redis.options.sutPlacement().sutCPUs == [1])
        let same = try RedisCommand.parse(Self.agents + ["--connections", "1,4,16", "--sut-cpus", "1"])
        #expect(try same.options.sutPlacement() == redis.options.sutPlacement())
    }

    @Test func mysqlCpuIsASpellingOfSutCpus() throws {
        let mysql = try MySQLCommand.parse(
            Self.agents + ["--threads", "1,8", "--mysql-cpu", "0", "--transaction", "read-only"])
        #expect(try mysql.options.makeSpecs(password: "p").map(\.threads) == [1, 8])
        #expect(try mysql.options.makeSpecs(password: "p").allSatisfy { $0.mode == .readOnly })
        #expect(try mysql.options.sutPlacement().sutCPUs == [0])
    }

    @Test func theOtherSubcommandsParse() throws {
        let quick = try QuickstartCommand.parse(["--duration", "1s", "--out", "/tmp/q"])
        #expect(quick.duration.nanoseconds == 1_000_000_000)
        #expect(try AgentsCommand.Deploy.parse(["--lab", "lab.yaml", "--accept-new"]).options.acceptNew)
        #expect(try AgentsCommand.Status.parse(["--lab", "lab.yaml"]).options.lab == "lab.yaml")
        #expect(try AgentsCommand.Stop.parse(["--lab", "lab.yaml"]).options.lab == "lab.yaml")
        #expect(try AgentsCommand.Logs.parse(["--lab", "lab.yaml"]).out == "lockstep-agent-logs")
        #expect(try Serve.parse(["--listen", "127.0.0.1:7000", "--token-file", "/t"]).lease == 3)
        #expect(try MeterCommand.parse(["--seconds", "0.5"]).seconds == 0.5)
        // --lab replaces the three agent options.
        #expect(try RRCommand.parse(["--lab", "lab.yaml", "--out", "/tmp/o"]).agents.lab == "lab.yaml")
    }

    @Test(arguments: [
        ("rr", ["--response", "0"], "response size"),
        ("rr", ["--protocol", "sctp"], "'sctp' is invalid for '--protocol"),
        ("rr", ["--protocol", "tcp,"], "is invalid for '--protocol"),
        ("rr", ["--flows", "0"], "flows"),
        ("rr", ["--duration=-1s"], "duration must be positive"),
        ("rr", ["--duration", "ten"], "'ten' is invalid for '--duration"),
        ("rr", ["--warmup=-1s"], "warm-up must not be negative"),
        ("rr", ["--sut-cpus", "2-1"], "'2-1' is invalid for '--sut-cpus"),
        ("rr", ["--peer-cpus", "x"], "'x' is invalid for '--peer-cpus"),
        ("rr", ["--resume", "/tmp/elsewhere"], "exclude each other"),
        ("stream", ["--streams", "0"], "streams"),
        ("stream", ["--buffer", "0"], "buffer"),
        ("stream", ["--direction", "up"], "'up' is invalid for '--direction"),
        ("redis", ["--connections", "0"], "connections must be"),
        ("redis", ["--connections", "1,x"], "'1,x' is invalid for '--connections"),
        ("redis", ["--ratio", "1-1"], "ratio"),
        ("redis", ["--value-size", "64-32"], "value size"),
        ("redis", ["--pipeline", "0"], "pipeline"),
        ("redis", ["--redis", "127.0.0.1:6379", "--redis-cpu", "1"], "do not apply"),
        ("redis", ["--redis-cpu", "1", "--sut-cpus", "0"], "another spelling of --sut-cpus"),
        ("redis", ["--redis-cpu=-1"], "must not be negative"),
        ("mysql", ["--threads", "0"], "threads must be 1...4096"),
        ("mysql", ["--threads", "1,x"], "'1,x' is invalid for '--threads"),
        ("mysql", ["--table-size", "10"], "table size must be"),
        ("mysql", ["--password-file", "/tmp/x"], "--password-file is for a running server"),
        ("mysql", ["--mysql", "127.0.0.1:3306", "--mysql-cpu", "1"], "--mysql targets a running server"),
        ("mysql", ["--mysql-cpu", "0", "--sut-cpus", "1"], "another spelling of --sut-cpus"),
        ("mysql", ["--transaction", "write-only"], "write-only"),
        ("rr", ["--mode", "kvm-ish"], "'kvm-ish' is invalid for '--mode"),
        ("rr", ["--mode", "native,native"], "--mode lists a mode twice"),
        ("rr", ["--guest-ports", "70000"], "--guest-ports must be"),
    ])
    func badCommandLinesAreRefused(_ command: String, _ extra: [String], _ says: String) {
        let arguments = Self.agents + extra
        let message: String?
        switch command {
        case "rr": message = Self.refusal(RRCommand.self, arguments)
        case "stream": message = Self.refusal(StreamCommand.self, arguments)
        case "redis": message = Self.refusal(RedisCommand.self, arguments)
        default: message = Self.refusal(MySQLCommand.self, arguments)
        }
        #expect(message?.contains(says) == true, "\(command) \(extra): \(message ?? "accepted")")
    }

    @Test func agentOptionsNeedALabOrAllThree() {
        #expect(Self.refusal(RRCommand.self, ["--sut", "127.0.0.1:1", "--out", "/tmp/o"])?.contains("--lab") == true)
        #expect(
            Self.refusal(RRCommand.self, ["--lab", "l.yaml", "--sut", "127.0.0.1:1", "--out", "/tmp/o"])?.contains(
                "do not apply") == true)
        #expect(Self.refusal(RRCommand.self, Array(Self.agents.dropLast(2)))?.contains("--out") == true)
        #expect(Self.refusal(Serve.self, ["--listen", "nowhere", "--token-file", "/t"])?.contains("HOST:PORT") == true)
        #expect(Self.refusal(MeterCommand.self, ["--seconds", "0"])?.contains("positive") == true)
    }
}
