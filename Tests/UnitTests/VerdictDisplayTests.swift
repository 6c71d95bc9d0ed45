import Foundation
import Histogram
import Shared
import Testing

@testable import Agent
@testable import Coordinator

/// Where verdicts show: withheld percentiles, grey bars, the process scan and the idle policy.
@Suite struct VerdictDisplayTests {
    @Test func aPercentileIsWithheldBelowSevenOverItsTail() {
        var histogram = HistogramSnapshot.makeLatencyHistogram()
        for i in 0..<2000 { histogram.record(UInt64(10_000 + i)) }
        let rows = RRWorkload.latency.rows(histogram, labels: [:]).map(\.metric)
        #expect(rows.contains("latency_p99_us"))
        #expect(!rows.contains("latency_p999_us"))
        #expect(rows.contains("latency_mean_us") && rows.contains("latency_max_us"))
        // The table finds the withheld percentile's histogram by its mean.
        #expect(LatencyMetrics.meanName(of: "latency_p999_us") == "latency_mean_us")
        #expect(LatencyMetrics.meanName(of: "owd_request_p99_us") == "owd_request_mean_us")
    }

    @Test func aSuspectBarIsGreyAndSaysWhyOnHover() {
        let chart = BarChart(
            title: "t", yLabel: "us", groups: ["A"], series: ["x", "y"],
            bars: [
                [
                    .init(value: 10, low: nil, high: nil, note: "A x"),
                    .init(value: 20, low: nil, high: nil, note: "A y\nSUSPECT: quiet-host", suspect: true),
                ]
            ])
        let bars = chart.svg().elements("rect").filter { ($0["class"] ?? "").hasPrefix("bar") }
        #expect(bars.map { $0["class"] } == ["bar", "bar suspect"])
        #expect(bars[1]["fill"] == suspectColor)
        #expect(bars[1].elements("title").first?.textContent.contains("SUSPECT") == true)
    }

    @Test func theScanCountsOnlyProcessesOutsideTheStep() throws {
        func entry(_ comm: String, _ ppid: Int, _ ticks: UInt64) -> ProcessScan.Entry {
            ProcessScan.Entry(comm: comm, ppid: ppid, ticks: ticks, started: 1)
        }
        let before = ProcessScan(processes: [
            1: entry("init", 0, 0), 10: entry("lockstep-agent", 1, 0), 11: entry("redis-server", 10, 0),
            20: entry("python3", 1, 0), 30: entry("kworker/0:1", 2, 0), 40: entry("containerd-shim-runc-v2", 1, 0),
            41: entry("mariadbd", 40, 0),
        ])
        var after = before
        for pid in [10, 11, 20, 30, 41] { after.processes[pid]!.ticks = 300 }
        let others = ProcessScan.others(
            before: before, after: after, ticksPerSecond: 100, own: 99, commandLine: { _ in "python3 -c hog" })
        #expect(others.cpuSeconds == 3)
        #expect(others.top.map(\.pid) == [20])
        #expect(others.top.first?.command == "python3: python3 -c hog")
        // A /proc stat line whose command holds spaces and parentheses.
        let line = "42 (a (b) c) S 7 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 12345 1000 10"
        let parsed = try #require(ProcessScan.parse(stat: line))
        #expect(parsed.comm == "a (b) c" && parsed.ppid == 7 && parsed.ticks == 300 && parsed.started == 12345)
    }

    @Test func theIdlePolicyIsReadFromSysAndTheCommandLine() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("idle-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cpuidle = root + "/sys/devices/system/cpu/cpuidle"
        try FileManager.default.createDirectory(atPath: cpuidle, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            atPath: root + "/sys/module/haltpoll/parameters", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/proc", withIntermediateDirectories: true)
        try "haltpoll\n".write(toFile: cpuidle + "/current_driver", atomically: true, encoding: .utf8)
        try "haltpoll\n".write(toFile: cpuidle + "/current_governor_ro", atomically: true, encoding: .utf8)
        try "0\n".write(
            toFile: root + "/sys/module/haltpoll/parameters/guest_halt_poll_ns", atomically: true, encoding: .utf8)
        try "quiet idle=poll cpuidle_haltpoll.force=1 panic=1\n".write(
            toFile: root + "/proc/cmdline", atomically: true, encoding: .utf8)
        let idle = IdlePolicy.current(root: root)
        #expect(idle.driver == "haltpoll" && idle.governor == "haltpoll" && idle.haltPollNs == 0)
        #expect(idle.bootOptions == ["idle=poll", "cpuidle_haltpoll.force=1"])
    }
}

/// A plan's aggregates count suspect repetitions, and a ratio whose interval holds 1 is within noise.
@Suite struct VerdictAggregateTests {
    static let cell = PlanFile.Cell(
        id: "rr-tcp-native", step: PlannedStep(Workload(RRSpec()), timing: StepTiming(), placement: Placement()))

    static func sample(_ step: String, _ value: Double, verdict: String) -> MetricSample {
        RRWorkload.transactionsPerSec.sample(value, ["cell": cell.id, "step": step, "verdict": verdict])
    }

    @Test func aCellCountsItsSuspectRepetitions() throws {
        let rule = RepetitionRule(
            minimum: 3, maximum: 3, level: 0.95, widthPercent: 5, shuffle: false, seed: 0, cooldownNs: 0)
        let mixed = [
            Self.sample("s1", 100, verdict: "valid"), Self.sample("s2", 101, verdict: "suspect"),
            Self.sample("s3", 99, verdict: "valid"),
        ]
        let row = try #require(Aggregates.rows(samples: mixed, cells: [Self.cell], rule: rule).first)
        #expect(row.n == 3 && row.suspect_steps == 1)
        #expect(Aggregates.csv([row]).split(separator: "\n")[1].hasSuffix(",1"))
        let clean = mixed.map { s -> MetricSample in
            var s = s
            s.labels["verdict"] = "valid"
            return s
        }
        #expect(
            try #require(Aggregates.rows(samples: clean, cells: [Self.cell], rule: rule).first).suspect_steps == nil)
    }

    @Test func aRatioWhoseIntervalHoldsOneIsWithinNoise() throws {
        let rule = ReportRun.singleRule
        var row = try #require(
            Aggregates.rows(samples: [Self.sample("s1", 100, verdict: "valid")], cells: [Self.cell], rule: rule).first)
        row.ratio_to_native = 1.02
        row.ratio_ci_low = 0.95
        row.ratio_ci_high = 1.09
        #expect(row.ratioWithinNoise)
        #expect(row.ratioText == "within noise (1.020 [0.950, 1.090])")
        row.ratio_ci_low = 1.01
        #expect(!row.ratioWithinNoise)
        #expect(row.ratioText == "1.020 [1.010, 1.090]")
    }
}
