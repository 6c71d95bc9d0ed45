import Foundation
import Histogram
import TestSupport
import Testing

@testable import Coordinator
@testable import Shared

/// The workload types: found by name, encoded as before, their results decoded by kind, and every
/// metric a workload's rows produce declared once in its catalog (or among the common metrics).
@Suite struct WorkloadTypeTests {
    @Test func theBuiltInWorkloadsAreFoundByTheirNames() {
        for name in ["rr", "stream", "redis", "mysql"] {
            #expect(WorkloadRegistry.type(named: name)?.name == name)
            #expect((WorkloadRegistry.type(named: name) as? any WorkloadMetrics.Type) != nil)
        }
        #expect(WorkloadRegistry.type(named: "nope") == nil)
        #expect(PlanFile.workloads.map(\.name).starts(with: ["rr", "stream", "redis", "mysql"]))
    }

    @Test func theSpecEncodingIsTheWorkloadsNameHoldingItsSpec() throws {
        let text = String(decoding: try JSONEncoder().encode(Workload(RRSpec(flows: 2))), as: UTF8.self)
        #expect(text.hasPrefix("{\"rr\":{") && text.contains("\"flows\":2"))
        #expect(try JSONDecoder().decode(Workload.self, from: Data(text.utf8)) == Workload(RRSpec(flows: 2)))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Workload.self, from: Data("{\"fio\":{}}".utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Workload.self, from: Data("{}".utf8)) }
        #expect(Workload(RRSpec()) != Workload(RRSpec(flows: 2)))
        #expect(Workload(RRSpec()) != Workload(StreamSpec()))
        #expect(Workload(MySQLSpec(threads: 1, password: "secret")).redacted.spec(MySQLSpec.self)?.password == "")
    }

    @Test func resultsFitTheirWorkloadAndRoleAndDecodeByKind() throws {
        let bulk = Workload(StreamSpec(direction: .sutTx))
        #expect(
            SideOutcome(StreamSenderResult(retransmits: 0, bytes: 1, load: LoadThreads(threads: 1, cpuSeconds: 0)))
                .fits(bulk, role: .sut))
        #expect(
            !SideOutcome(StreamReceiverResult(bytes: 1, load: LoadThreads(threads: 1, cpuSeconds: 0))).fits(
                bulk, role: .sut))
        #expect(SideOutcome(HostMeterResult()).fits(bulk, role: .host))
        #expect(!SideOutcome(RRServerResult(served: 1)).fits(Workload(RedisSpec(connections: 1)), role: .sut))
        let outcome = SideOutcome(RedisServerResult(keys: 3, usedMemoryBytes: nil))
        let text = try JSONEncoder().encode(outcome)
        #expect(String(decoding: text, as: UTF8.self).hasPrefix("{\"redisServer\":"))
        #expect(try JSONDecoder().decode(SideOutcome.self, from: text) == outcome)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(SideOutcome.self, from: Data("{\"x\":{}}".utf8))
        }
    }

    @Test func theGuestPortsFollowTheShapesSlots() {
        let ports = GuestPorts(base: 7470)
        #expect(ports.all == [7470, 7471, 7472, 7473, 7474])
        #expect(ports.port(for: Workload(RRSpec())) == 7471 && ports.port(for: Workload(MySQLSpec(threads: 1))) == 7474)
        #expect(ports.udp == [7470, 7471])
    }

    /// Each built-in workload's step as a synthetic outcome (a SUT and a peer with results of its kind).
    static func outcome(_ workload: Workload, step: String = "s") -> StepOutcome {
        let histogram = HistogramSnapshot(HistogramSnapshot.makeLatencyHistogram())
        let load = LoadThreads(threads: 1, cpuSeconds: 0.5)
        var cpu = CPUUsage(
            busySeconds: 0.5, idleSeconds: 1.5, utilizationPercent: 25, perCPUPercent: [:], cpus: 2, wallSeconds: 1,
            cycles: 1e9, cyclesSource: "test", notes: [])
        cpu.accountedFraction = 1
        func side(_ role: Role, _ result: any WorkloadResult) -> AgentSide {
            var r = SideResult(
                startedNs: 0, stoppedNs: 2_000_000_000, windowStartNs: 500_000_000, windowEndNs: 1_500_000_000,
                outcome: SideOutcome(result))
            r.cpu = cpu
            let clock = ClockEstimate(offsetNs: 0, errorNs: 100, roundTripNs: 200, atNs: 0, probes: 1)
            return AgentSide(
                index: role == .sut ? 0 : 1, role: role, name: role.rawValue, result: r,
                clock: ClockTrack(before: clock), intervals: [])
        }
        let results: (sut: any WorkloadResult, peer: any WorkloadResult)
        switch workload.name {
        case "rr":
            results = (
                RRServerResult(served: 10), RRClientResult(transactions: 9, lost: 0, latency: histogram, load: load)
            )
        case "stream":
            results = (
                StreamSenderResult(retransmits: 1, bytes: 100, load: load), StreamReceiverResult(bytes: 100, load: load)
            )
        case "redis":
            results = (
                RedisServerResult(keys: 4, usedMemoryBytes: 1000),
                RedisClientResult(
                    operations: 8, latency: histogram, gets: 4, sets: 4, hits: 3, misses: 1, errors: 0,
                    valueMismatches: 0,
                    keys: 4, load: load)
            )
        default:
            results = (
                MySQLServerResult(loadSeconds: 1, oDirect: true, rowsAfter: 10),
                MySQLClientResult(
                    transactions: 5, latency: histogram, queries: 90, rowsRead: 100, errors: 0, deadlocks: 0,
                    reconnects: 0, load: load)
            )
        }
        return StepOutcome(
            stepID: step, plan: PlannedStep(workload), sides: [side(.sut, results.sut), side(.peer, results.peer)])
    }

    @Test(arguments: [
        Workload(RRSpec()), Workload(StreamSpec(direction: .sutTx)), Workload(RedisSpec(connections: 1)),
        Workload(MySQLSpec(threads: 1)),
    ])
    func everyMetricARunWritesIsDeclaredOnceWithItsUnit(workload: Workload) throws {
        let catalog = workload.type.catalog
        #expect(Set(catalog.metrics.map(\.name)).count == catalog.metrics.count, "a name declared twice")
        #expect(catalog.headline.allSatisfy { h in catalog.metrics.contains { $0.name == h.name } })
        let declared = catalog.metrics + CommonMetrics.all + [CommonMetrics.Interval.cpuUtil]
        let samples = Self.outcome(workload).samples(runID: "r")
        #expect(!samples.isEmpty)
        for sample in samples {
            let metric = try #require(declared.first { $0.name == sample.metric }, "\(sample.metric) is not declared")
            #expect(metric.unit == sample.unit, "\(sample.metric): \(sample.unit) vs \(metric.unit)")
        }
    }

    @Test func aUnitBelongsToTheWorkloadsMetricNotToItsName() {
        // RR and MySQL both report transactions_per_sec, each in its own unit.
        #expect(RRWorkload.transactionsPerSec.name == MySQLWorkload.transactionsPerSec.name)
        #expect(RRWorkload.transactionsPerSec.unit != MySQLWorkload.transactionsPerSec.unit)
        var rr = Self.outcome(Workload(RRSpec()), step: "rr-r1")
        rr.cell = "rr-tcp-native"
        rr.repetition = 1
        var mysql = Self.outcome(Workload(MySQLSpec(threads: 1)), step: "mysql-r1")
        mysql.cell = "mysql-t1-native"
        mysql.repetition = 1
        let samples = rr.samples(runID: "r") + mysql.samples(runID: "r")
        let cells = PlanFile.cells([rr.plan, mysql.plan])
        let rule = RepetitionRule(
            minimum: 1, maximum: 1, level: 0.95, widthPercent: 5, shuffle: false, seed: 1, cooldownNs: 0)
        let rows = Aggregates.rows(samples: samples, cells: cells, rule: rule).filter {
            $0.metric == "transactions_per_sec"
        }
        #expect(rows.map(\.unit) == ["transactions/s", "tx/s"])
    }

    @Test func aLogScaleTicksAtOneTwoFiveAndMapsDecadesEvenly() {
        let scale = LogScale(values: [12, 3400], range: (300, 0))
        #expect(scale.domain == (10, 10_000))
        #expect(scale.ticks() == [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000])
        #expect(scale(10) == 300 && scale(10_000) == 0 && scale(100) == 200 && scale(1000) == 100)
        #expect(LogScale(values: [1, 1e9], range: (100, 0)).ticks().count == 10)
    }

    @Test func theProvenanceLabelIsOneTypeBothWays() {
        let label = ProvenanceLabel(digests: ["sut": "aa", "peer": "bb"])
        #expect(label.label == "peer=bb sut=aa")
        #expect(ProvenanceLabel(label: label.label) == label)
        #expect(ProvenanceLabel(digests: [:]).label == nil)
        #expect(ProvenanceLabel(label: "junk peer=bb").digests == ["peer": "bb"])
    }
}
