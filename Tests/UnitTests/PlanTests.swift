import Foundation
import Shared
import TestSupport
import Testing

@testable import Coordinator

/// Plans without agents: parsing and validation of recorded plan texts, the statistics against
/// values computed by hand, the stopping rule, the shuffle and the aggregates.
@Suite struct PlanTests {
    /// Writes `text` as a plan file and loads it.
    static func load(_ text: String, scale: Double? = nil) throws -> PlanFile {
        let path = NSTemporaryDirectory() + "/lockstep-plan-\(UUID().uuidString).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try PlanFile.load(path, scale: scale)
    }

    /// The one-line error a plan text gets, without the file's path.
    static func refusal(_ text: String) -> String? {
        do {
            _ = try load(text)
            return nil
        } catch let error as FileError {
            #expect(error.code == .planFile)
            return error.message.split(separator: "/").last.map(String.init) ?? error.message
        } catch {
            return "\(error)"
        }
    }

    static let example = """
        modes: [native, netns-nat]
        repetitions: {min: 3, max: 10}
        confidence: {level: 99, width: 5}
        order: shuffle
        seed: 1
        experiments:
          - rr: {protocol: [tcp, udp], request: 100, response: 200, duration: 3s}
          - stream: {direction: [sut-tx, sut-rx], duration: 3s}
          - redis: {connections: [1, 16], pipeline: 10, duration: 3s}
          - mysql: {threads: [1, 8], table-size: 20000, duration: 3s}
        """

    @Test func theIssuesExampleIsSixteenCellsWithTheCLIsParameters() throws {
        let plan = try Self.load(Self.example)
        #expect(plan.cells.count == 16)
        #expect(
            plan.rule
                == RepetitionRule(
                    minimum: 3, maximum: 10, level: 0.99, widthPercent: 5, shuffle: true, seed: 1, cooldownNs: 0))
        #expect(
            plan.cells.map(\.id).prefix(4) == [
                "rr-tcp-native", "rr-tcp-netns-nat", "rr-udp-native", "rr-udp-netns-nat",
            ])
        let redis = plan.cells.compactMap { cell -> RedisSpec? in
            if let spec = cell.step.workload.spec(RedisSpec.self) { return spec }
            return nil
        }
        #expect(redis.map(\.connections) == [1, 1, 16, 16])
        #expect(redis.allSatisfy { $0.pipeline == 10 })
        #expect(plan.cells.allSatisfy { $0.step.timing.durationNs == 3_000_000_000 })
        // Every MySQL cell logs in with the same made-up password.
        let passwords = Set(
            plan.cells.compactMap { cell -> String? in
                if let spec = cell.step.workload.spec(MySQLSpec.self) { return spec.password }
                return nil
            })
        #expect(passwords.count == 1)
        let scaled = try Self.load(Self.example, scale: 0.1)
        #expect(scaled.cells[0].step.timing.durationNs == 1_000_000_000)
        let mysql = scaled.cells.compactMap { cell -> MySQLSpec? in
            if let spec = cell.step.workload.spec(MySQLSpec.self) { return spec }
            return nil
        }
        #expect(mysql.allSatisfy { $0.tableSize == 2000 })
    }

    @Test func theShippedPlansParse() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let felter = try PlanFile.load(root + "/deploy/plans/felter2014.yaml")
        #expect(Set(felter.cells.map(\.step.placement.mode)) == [.native, .dockerHost, .dockerNAT, .kvm])
        #expect(felter.rule.level == 0.99 && felter.rule.widthPercent == 5)
        #expect(
            felter.cells.contains {
                if let s = $0.step.workload.spec(MySQLSpec.self) {
                    s.threads == 290 && s.tableSize == 2_000_000
                } else {
                    false
                }
            })
        // The storage half: the paper's fio jobs in every mode, and MySQL on Docker NAT's own layer.
        #expect(
            Set(felter.cells.compactMap { $0.step.workload.spec(FioSpec.self)?.job.name })
                == Set(FioJob.paper.map(\.name)))
        #expect(
            felter.cells.contains { $0.id == "mysql-t290-docker-nat-layered" && $0.step.placement.storage == .layered })
        #expect(
            felter.runWide.containerStorage == .volume && felter.vm.diskFormat == .qcow2 && felter.vm.diskAIO == .native
        )
        let quick = try PlanFile.load(root + "/deploy/plans/quick.yaml")
        #expect(Set(quick.cells.map(\.step.placement.mode)) == [.native, .netnsNAT])
        #expect(
            Set(quick.cells.map(\.step.workload.name)) == ["rr", "stream", "redis", "mysql", "fio", "hpcc", "compress"])
        // The CPU half: hpcc and xz in every mode, and the untuned kvm guest beside the tuned one.
        #expect(Set(felter.cells.filter { $0.step.workload.name == "hpcc" }.map(\.step.placement.mode)).count == 4)
        let untuned = try #require(felter.cells.first { $0.id == "hpcc-mem25-kvm-cpu-default" })
        #expect(untuned.step.placement.vmCPUModel == .default && felter.vm.cpuModel == .host)
        #expect(felter.cells.contains { $0.id == "compress-xz-t32-l6-kvm-cpu-default" })
        #expect(felter.cells.contains { $0.id == "hpcc-mem25-kvm" && $0.step.placement.vmCPUModel == nil })
    }

    @Test(arguments: [
        ("modes: [native\nexperiments:\n  - rr: {protocol: tcp}\n", "line 2, column 12"),
        ("mode: [native]\nexperiments: []\n", "1:1: unknown key 'mode' in the plan"),
        ("experiments:\n  - ping: {count: 1}\n", "2:5: unknown workload 'ping'"),
        ("modes: [native, vm]\nexperiments:\n  - rr: {}\n", "1:17: unknown mode 'vm'"),
        ("experiments:\n  - rr: {protocl: tcp}\n", "2:10: rr: unknown option 'protocl'"),
        ("experiments:\n  - redis: {connections: [1, x]}\n", "2:13: redis: The value 'x' is invalid"),
        ("experiments:\n  - rr: {request: -5}\n", "2:5: rr: request size must be"),
        ("repetitions: {min: 3, max: 2}\nexperiments:\n  - rr: {}\n", "1:14: repetitions: max (2) is below min (3)"),
        ("repetitions: {min: 0}\nexperiments:\n  - rr: {}\n", "1:20: min must be an integer in 1...1000"),
        ("confidence: {level: 90}\nexperiments:\n  - rr: {}\n", "1:21: level must be 95 or 99"),
        ("order: random\nexperiments:\n  - rr: {}\n", "1:8: order must be shuffle or sequential"),
        ("experiments:\n  - rr: {image: x}\n", "2:10: image is set for the whole plan"),
        (
            "experiments:\n  - rr: {protocol: tcp}\n  - rr: {protocol: tcp}\n",
            "cells rr-tcp-native and rr-tcp-native-2 run the same step"
        ),
        ("modes: [native]\n", "missing `experiments`"),
    ])
    func everyPlanErrorIsOneLineWithItsPlace(text: String, says: String) {
        let message = Self.refusal(text)
        #expect(message?.contains(says) == true, "\(message ?? "accepted")")
        #expect(message?.contains("\n") == false)
    }

    @Test func tQuantilesMatchTheTables() {
        for (p, df, t) in [
            (0.975, 2.0, 4.3027), (0.995, 2.0, 9.9248), (0.975, 9.0, 2.2622), (0.995, 4.0, 4.6041),
            (0.975, 1e6, 1.9600),
        ] {
            #expect(abs(Statistics.tQuantile(p, degreesOfFreedom: df) - t) < 1e-3, "t(\(p), \(df))")
        }
    }

    @Test func summaryAndRatioAgainstValuesByHand() throws {
        // 10, 12, 14: mean 12, s = 2, half = t(0.975, 2) * 2 / sqrt(3) = 4.9683; width 82.8% of the mean.
        let a = try #require(Statistics.summary([10, 12, 14], level: 0.95))
        #expect(a.mean == 12 && a.standardDeviation == 2 && a.median == 12)
        #expect(abs(a.halfWidth! - 4.9683) < 1e-3)
        #expect(abs(a.widthPercent! - 82.805) < 1e-2)
        #expect(!a.meets(widthPercent: 80) && a.meets(widthPercent: 83))
        // 20, 24, 28 over it: ratio 2; relative variances (4/3)/144 on each side, so the ratio's
        // standard error is 2 * sqrt(2 * 4/432) = 0.27217, df = 4, t(0.975, 4) = 2.7764.
        let b = try #require(Statistics.summary([20, 24, 28], level: 0.95))
        let r = try #require(Statistics.ratio(b, over: a, level: 0.95))
        #expect(r.value == 2)
        #expect(abs(r.high! - (2 + 2.7764 * 0.27217)) < 1e-3)
        #expect(abs(r.low! - (2 - 2.7764 * 0.27217)) < 1e-3)
        #expect(Statistics.summary([5], level: 0.99)?.halfWidth == nil)
    }

    static let rule = RepetitionRule(
        minimum: 2, maximum: 4, level: 0.95, widthPercent: 10, shuffle: false, seed: 1, cooldownNs: 0)

    /// Runs a schedule to its end feeding each cell's values in turn; the ids it handed out.
    static func drive(_ values: [String: [Double]], rule: RepetitionRule = rule) -> [String] {
        let cells = values.keys.sorted().map { (id: $0, step: step(Workload(RRSpec(proto: .tcp)))) }
        var schedule = PlanSchedule(cells: cells, rule: rule)
        var ids: [String] = []
        var used: [String: Int] = [:]
        while let next = schedule.next() {
            ids.append(next.id)
            let cell = next.cell!
            schedule.record(next, headline: values[cell]![used[cell, default: 0]])
            used[cell, default: 0] += 1
        }
        return ids
    }

    @Test func theStoppingRuleStopsAtMinLaterOrAtMax() {
        let ids = Self.drive([
            "a-met-at-min": [100, 100.5, 0, 0],  // within 10% after two
            "b-met-later": [100, 150, 101, 99],  // wide after two, within after three
            "c-never": [100, 200, 50, 300],  // never within: stops at max
        ])
        #expect(ids.filter { $0.hasPrefix("a-") } == ["a-met-at-min-r1", "a-met-at-min-r2"])
        #expect(ids.filter { $0.hasPrefix("b-") }.count == 4 || ids.filter { $0.hasPrefix("b-") }.count == 3)
        #expect(ids.filter { $0.hasPrefix("c-") }.count == 4)
        // Round by round: every cell's repetition r before any cell's r + 1.
        #expect(ids.prefix(3).allSatisfy { $0.hasSuffix("-r1") })
        // b: after 100, 150, 101 the interval is still wide (t(0.975,2) * 28.6 / sqrt 3 > 5%), after 99 too: max.
        let b = Statistics.summary([100, 150, 101], level: 0.95)!
        #expect(ids.filter { $0.hasPrefix("b-") }.count == (b.meets(widthPercent: 10) ? 3 : 4))
        let tight = Self.drive(
            ["b": [100, 130, 100, 100.2]],
            rule: RepetitionRule(
                minimum: 2, maximum: 10, level: 0.95, widthPercent: 80, shuffle: false, seed: 1, cooldownNs: 0))
        #expect(tight == ["b-r1", "b-r2", "b-r3"], "met later: three repetitions")
    }

    @Test func theShuffleIsSeededAndDeterministic() {
        let items = Array(0..<20)
        let a = PlanSchedule.shuffled(items, seed: 7, round: 1)
        #expect(a == PlanSchedule.shuffled(items, seed: 7, round: 1))
        #expect(a != items && Set(a) == Set(items))
        #expect(a != PlanSchedule.shuffled(items, seed: 8, round: 1))
        #expect(a != PlanSchedule.shuffled(items, seed: 7, round: 2))
        var rule = Self.rule
        rule.shuffle = true
        let values = Dictionary(uniqueKeysWithValues: (0..<8).map { ("cell\($0)", [1.0, 1.0, 1.0, 1.0]) })
        #expect(Self.drive(values, rule: rule) == Self.drive(values, rule: rule))
    }

    @Test func aggregatesAndRatiosFromSamples() throws {
        let native = step(Workload(RRSpec(proto: .tcp)))
        var nat = native
        nat.placement.mode = .netnsNAT
        let cells = PlanFile.cells([native, nat])
        #expect(cells.map(\.id) == ["rr-tcp-native", "rr-tcp-netns-nat"])
        var samples: [MetricSample] = []
        for (cell, values) in [("rr-tcp-native", [10.0, 12, 14]), ("rr-tcp-netns-nat", [20.0, 24, 28])] {
            for (i, v) in values.enumerated() {
                // The SUT's host changed under the NAT cell's last repetition.
                let sut = cell == "rr-tcp-netns-nat" && i == 2 ? "bbbbbb" : "aaaaaa"
                let labels = [
                    "cell": cell, "step": "\(cell)-r\(i + 1)", "repetition": "\(i + 1)",
                    "provenance": "peer=cccccc sut=\(sut)",
                ]
                samples.append(MetricSample(metric: "latency_mean_us", value: v, unit: "us", labels: labels))
                var interval = labels
                interval["kind"] = "interval"
                samples.append(MetricSample(metric: "latency_mean_us", value: 1e9, unit: "us", labels: interval))
            }
        }
        let rows = Aggregates.rows(samples: samples, cells: cells, rule: Self.rule)
        #expect(rows.count == 2)
        #expect(rows[0].headline && rows[0].n == 3 && rows[0].mean == 12 && rows[0].ratio_to_native == nil)
        #expect(abs(rows[0].ci_half_width! - 4.9683) < 1e-3)
        #expect(rows[1].native_cell == "rr-tcp-native" && rows[1].ratio_to_native == 2)
        #expect(abs(rows[1].ratio_ci_high! - (2 + 2.7764 * 0.27217)) < 1e-3)
        #expect(rows.allSatisfy { !$0.confidence_met })
        #expect(rows[0].provenance_changed == nil)
        #expect(rows[1].provenance_changed == ["sut"])
        #expect(
            AggregateTable.render(rows, rule: Self.rule).contains(
                "provenance changed between repetitions of rr-tcp-netns-nat on sut"))
        #expect(Aggregates.csv(rows).split(separator: "\n").count == 3)
    }

    @Test func aResumeNamesTheHostWhoseFactsChanged() {
        let facts = HostFacts(hostname: "h", kernel: "Linux 6.1", cpuModel: "x", cores: 2, softwareVersion: "0.1.0")
        var newer = facts
        newer.kernel = "Linux 6.6"
        func agent(_ host: HostFacts) -> RunInfo.Agent {
            RunInfo.Agent(role: .sut, name: "sut", address: "127.0.0.1:1", version: "0.1.0", host: host)
        }
        #expect(BenchmarkRun.provenanceChanges([agent(facts)], [agent(facts)]).isEmpty)
        #expect(
            BenchmarkRun.provenanceChanges([agent(facts)], [agent(newer)]) == [
                "sut sut: kernel: \"Linux 6.1\" -> \"Linux 6.6\""
            ])
    }

    @Test func theProvenanceFingerprintIsStableAndLeavesTransientLinksOut() {
        #expect(Provenance.digest() == Provenance.digest())
        #expect(Provenance.digest().count == 12)
        #expect(["lsbr1a2b", "lsvh1a2b", "veth0", "docker0"].allSatisfy(Provenance.isTransient))
        #expect(!Provenance.isTransient("eth0") && !Provenance.isTransient("lo"))
        #expect(Provenance.current(runningTools: false).sysctls["net.core.somaxconn"] != nil)
    }
}
