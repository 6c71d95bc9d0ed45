import Foundation
import SQLiteNIO
import Shared
import TestSupport
import Testing

@testable import Coordinator

/// The history without agents: change points against synthetic series and against Apache Otava on
/// the same series, Mann-Whitney U against scipy, the minimum detectable change by hand, the store's
/// idempotence and refusals, and the regression analysis over stored runs.
@Suite struct HistoryTests {
    // MARK: - Series

    /// Normal noise (Box-Muller over SplitMix64): `count` values of mean `mean` and deviation `sd`.
    static func noise(_ count: Int, mean: Double, sd: Double, seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        func uniform() -> Double { (Double(rng.next() >> 11) + 0.5) / Double(1 << 53) }
        return (0..<count).map { _ in mean + sd * (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) }
    }

    @Test func aStepIsFoundWhereItIs() {
        for seed in UInt64(1)...20 {
            let series =
                Self.noise(30, mean: 100, sd: 3, seed: seed) + Self.noise(20, mean: 120, sd: 3, seed: seed + 99)
            let points = ChangePoints.find(series)
            #expect(points.map(\.index) == [30], "seed \(seed): \(points.map(\.index))")
            if let p = points.first {
                #expect(abs(p.changePercent - 20) < 5)
                #expect(p.pValue < 0.001)
            }
        }
    }

    @Test func twoStepsAreBothFoundAndASmallOneAmidNoiseIsNot() {
        let series =
            Self.noise(25, mean: 50, sd: 1, seed: 7) + Self.noise(25, mean: 40, sd: 1, seed: 8)
            + Self.noise(25, mean: 55, sd: 1, seed: 9)
        #expect(ChangePoints.find(series).map(\.index) == [25, 50])
        // A change of a tenth of the noise's deviation is not a change point.
        let tiny = Self.noise(30, mean: 100, sd: 5, seed: 3) + Self.noise(30, mean: 100.5, sd: 5, seed: 4)
        #expect(ChangePoints.find(tiny).isEmpty)
    }

    @Test func aDriftIsCutAndALoneOutlierIsNot() {
        // 40 runs drifting up by 30% in all: at least one change point, each a rise.
        let drift = Self.noise(40, mean: 0, sd: 1, seed: 11).enumerated().map {
            100 + Double($0.offset) * 0.75 + $0.element
        }
        let cut = ChangePoints.find(drift)
        #expect(!cut.isEmpty)
        #expect(cut.allSatisfy { $0.meanAfter > $0.meanBefore })
        // One run 6 deviations off in the middle of noise: no change point.
        var outlier = Self.noise(40, mean: 100, sd: 2, seed: 12)
        outlier[20] = 112
        #expect(ChangePoints.find(outlier).isEmpty, "\(ChangePoints.find(outlier).map(\.index))")
    }

    /// The stated false-positive rate: at the default p < 0.001, at most 5% of 40-run series of
    /// pure noise show a change point (the selection of the best split makes it more than 0.1%).
    @Test func pureNoiseGivesFewFalseChangesOverManySeeds() {
        var flagged = 0
        for seed in UInt64(1)...300 where !ChangePoints.find(Self.noise(40, mean: 100, sd: 5, seed: seed)).isEmpty {
            flagged += 1
        }
        #expect(Double(flagged) / 300 <= 0.05, "\(flagged) of 300 noise series had a change point")
    }

    /// The same change points as Apache Otava (PyPI apache-otava, its compute_change_points) on
    /// steps, several steps, drifts, outliers, noise, and series longer than the window.
    @Test func theSameChangePointsAsApacheOtava() throws {
        var cases: [[Double]] = []
        for seed in UInt64(1)...12 {
            cases.append(
                Self.noise(30, mean: 100, sd: 4, seed: seed) + Self.noise(15, mean: 90, sd: 4, seed: seed + 50))
            cases.append(Self.noise(40, mean: 100, sd: 5, seed: seed + 100))
            cases.append(
                Self.noise(60, mean: 10, sd: 0.5, seed: seed + 200)
                    + Self.noise(50, mean: 11, sd: 0.5, seed: seed + 300)
                    + Self.noise(30, mean: 9, sd: 0.5, seed: seed + 400))
            cases.append(
                Self.noise(50, mean: 0, sd: 1, seed: seed + 500).enumerated().map {
                    50 + Double($0.offset) * 0.2 + $0.element
                })
        }
        cases.append([10, 10, 10, 10, 10, 20, 20, 20])
        cases.append([1, 2, 1, 2, 1, 2, 50, 1, 2, 1, 2])
        let request: [String: Any] = ["otava": cases, "window": 50, "pvalue": 0.001]
        let answer = try Self.reference(request)
        let otava = try #require(answer as? [[Int]], "otava answered \(answer)")
        try #require(otava.count == cases.count)
        var agree = 0
        for (i, series) in cases.enumerated() {
            let mine = ChangePoints.find(series).map(\.index)
            #expect(mine == otava[i], "case \(i): lockstep \(mine), Otava \(otava[i]): \(series)")
            if mine == otava[i] { agree += 1 }
        }
        #expect(agree == cases.count)
        // Something was found, so the comparison is not of empty lists only.
        #expect(otava.filter { !$0.isEmpty }.count >= 30)
    }

    // MARK: - Mann-Whitney U and the detectable change

    @Test func mannWhitneyMatchesScipy() throws {
        var pairs: [[[Double]]] = [
            [[1, 2, 3], [4, 5, 6]], [[1, 2, 3, 4], [2.5, 5, 6, 7, 8]], [[10, 12, 11, 13], [14, 15, 13, 16]],
            [[1, 1, 2, 2], [2, 3, 3, 4]], [[5], [1, 2, 3]], [[3, 1, 2], [3, 1, 2]],
        ]
        for seed in UInt64(1)...10 {
            let n1 = 2 + Int(seed % 7)
            let n2 = 3 + Int(seed * 3 % 12)
            pairs.append([
                Self.noise(n1, mean: 10, sd: 2, seed: seed), Self.noise(n2, mean: 11, sd: 2, seed: seed + 70),
            ])
            // Ties (rounded values) and large samples take the normal approximation.
            pairs.append([
                Self.noise(12, mean: 10, sd: 2, seed: seed + 1).map { $0.rounded() },
                Self.noise(15, mean: 11, sd: 2, seed: seed + 2).map { $0.rounded() },
            ])
        }
        let answer = try #require(try Self.reference(["mannwhitney": pairs]) as? [[Double]])
        try #require(answer.count == pairs.count)
        for (i, pair) in pairs.enumerated() {
            let mine = try #require(Statistics.mannWhitney(pair[0], pair[1]))
            #expect(abs(mine.u - answer[i][0]) < 1e-9, "case \(i): U \(mine.u) vs scipy \(answer[i][0])")
            #expect(
                abs(mine.p - answer[i][1]) < 1e-9 * max(1, answer[i][1]) + 1e-12,
                "case \(i) (\(mine.method)): p \(mine.p) vs scipy \(answer[i][1])")
        }
        // Three against three can never go below p = 0.1: said, so n = 3 is not read as "no change".
        #expect(Statistics.mannWhitney([1, 2, 3], [4, 5, 6])?.smallestP == 0.1)
    }

    @Test func theMinimumDetectableChangeByHand() throws {
        // sd 2, n 3 on both sides: Welch df = 4; (t(0.975, 4) + t(0.8, 4)) x sqrt(4/3 + 4/3)
        // = (2.7764 + 0.9410) x 1.6330 = 6.0705.
        let a = try #require(Statistics.summary([10, 12, 14], level: 0.95))
        let mdc = try #require(Statistics.minimumDetectableChange(a, a, alpha: 0.05))
        #expect(abs(mdc - 6.0705) < 0.002, "\(mdc)")
        #expect(
            Statistics.minimumDetectableChange(try #require(Statistics.summary([5], level: 0.95)), a, alpha: 0.05)
                == nil)
    }

    // MARK: - The store

    static func entry(
        _ name: String, started: String, latency: Double, kernel: String = "Linux 6.1.0-18-amd64",
        cpus: Int = 2
    ) -> HistoryEntry {
        let rows = [
            Testbed.Row(agent: "sut/sut", field: "cpu_model", value: "AMD EPYC", hardware: true),
            Testbed.Row(agent: "sut/sut", field: "cpus", value: String(cpus), hardware: true),
            Testbed.Row(agent: "sut/sut", field: "kernel", value: kernel, hardware: false),
        ]
        func aggregate(_ metric: String, _ unit: String, _ mean: Double) -> AggregateRow {
            AggregateRow(
                cell: "rr-tcp-1", workload: "rr", mode: "native", metric: metric, unit: unit, headline: false, n: 1,
                mean: mean, stddev: 0, median: mean, min: mean, max: mean, ci_level: 0.95, ci_half_width: nil,
                ci_width_pct: nil, confidence_met: false, labels: [:])
        }
        return HistoryEntry(
            key: "\(name)-id@\(started)", name: name, directory: "/results/\(name)", command: "lockstep rr",
            status: "complete", startedAt: started, finishedAt: started, lockstepVersion: "0.1.0",
            testbed: Testbed(rows: rows),
            cells: [
                .init(
                    id: "rr-tcp-1", workload: "rr", mode: "native", labels: [:],
                    headline: ["latency_mean_us", "transactions_per_sec"])
            ],
            aggregates: [
                aggregate("latency_mean_us", "us", latency),
                aggregate("transactions_per_sec", "transactions/s", 1e6 / latency),
            ],
            better: ["latency_mean_us": "lower", "transactions_per_sec": "higher"],
            repetitions: [.init(cell: "rr-tcp-1", step: "rr-tcp-1", metric: "latency_mean_us", value: latency)])
    }

    @Test func addingARunTwiceStoresItOnceAndMoreContentReplacesIt() async throws {
        let scratch = Scratch()
        let db = scratch.path + "/history.db"
        var first = Self.entry("night-1", started: "2026-12-01T02:00:00Z", latency: 50)
        let outcomes = try await HistoryStore.with(db, create: true) { store in
            [try await store.add(first), try await store.add(first)]
        }
        #expect(outcomes == [.added, .unchanged])
        first.status = "complete"
        first.aggregates[0].mean = 51  // the directory was resumed and holds more
        let again = try await HistoryStore.with(db, create: false) { try await $0.add(first) }
        #expect(again == .replaced)
        let (runs, points) = try await HistoryStore.with(db, create: false) { store in
            (try await store.runs(), try await store.points(cell: "rr-tcp-1", metric: "latency_mean_us"))
        }
        #expect(runs.count == 1)
        #expect(runs.first?.cells == 1)
        #expect(points.map(\.mean) == [51])
        #expect(points.first?.headlineRank == 0)
    }

    /// The one line a refused database gives.
    static func refusal(_ db: String) async -> String? {
        do {
            _ = try await HistoryStore.with(db, create: true) { try await $0.runs() }
            return nil
        } catch let error as HistoryError {
            return error.message
        } catch {
            return "unexpected: \(error)"
        }
    }

    @Test func aCorruptOrForeignFileIsRefusedWithOneLineAndLeftAlone() async throws {
        let scratch = Scratch()
        // Not SQLite at all.
        let garbage = scratch.path + "/garbage.db"
        let bytes = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try bytes.write(to: URL(fileURLWithPath: garbage))
        let notDB = await Self.refusal(garbage)
        #expect(notDB?.contains("is not a lockstep history database") == true, "\(notDB ?? "accepted")")
        #expect(notDB?.contains("\n") == false)
        #expect(try Data(contentsOf: URL(fileURLWithPath: garbage)) == bytes, "the file was changed")
        // An SQLite database of something else.
        let foreign = scratch.path + "/foreign.db"
        let connection = try await SQLiteConnection.open(storage: .file(path: foreign))
        _ = try await connection.query("CREATE TABLE orders (id INTEGER)")
        try await connection.close()
        let other = await Self.refusal(foreign)
        #expect(other?.contains("not a lockstep history") == true, "\(other ?? "accepted")")
        // A history cut short (a disk that filled, a copy that stopped half-way).
        let good = scratch.path + "/good.db"
        _ = try await HistoryStore.with(good, create: true) { store in
            for i in 1...40 {
                _ = try await store.add(
                    Self.entry("n\(i)", started: "2026-11-\(String(format: "%02d", i % 28 + 1))T00:00:00Z", latency: 50)
                )
            }
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: good))
        let cut = scratch.path + "/cut.db"
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: cut))
        let damaged = await Self.refusal(cut)
        #expect(damaged != nil, "a history cut in half was accepted")
        #expect(damaged?.contains("\n") == false)
        // And a missing one is not made by a reader.
        do {
            _ = try await HistoryStore.with(scratch.path + "/none.db", create: false) { try await $0.runs() }
            Issue.record("a missing history was opened")
        } catch let error as HistoryError {
            #expect(error.message.contains("no such history database"))
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/none.db"))
    }

    // MARK: - Regressions over stored runs

    @Test func aSlowdownIsNamedAtItsFirstRunWithTheKernelThatChangedThere() async throws {
        let scratch = Scratch()
        let db = scratch.path + "/history.db"
        let latencies = [50.0, 51, 49.5, 50.5, 50.2, 49.8, 70, 71, 69.5, 70.4]
        _ = try await HistoryStore.with(db, create: true) { store in
            for (i, latency) in latencies.enumerated() {
                let kernel = i >= 6 ? "Linux 6.1.0-21-amd64" : "Linux 6.1.0-18-amd64"
                _ = try await store.add(
                    Self.entry(
                        "night-\(i + 1)", started: "2026-11-\(String(format: "%02d", i + 1))T02:00:00Z",
                        latency: latency, kernel: kernel))
            }
            // Another machine's runs are never in the same series.
            for i in 0..<4 {
                _ = try await store.add(
                    Self.entry(
                        "big-\(i + 1)", started: "2026-11-\(String(format: "%02d", i + 1))T03:00:00Z",
                        latency: 20 + Double(i) * 10, cpus: 64))
            }
        }
        let (points, testbeds) = try await HistoryStore.with(db, create: false) { store in
            let points = try await store.points()
            var testbeds: [Int: Testbed] = [:]
            for id in Set(points.map(\.run.id)) { testbeds[id] = try await store.testbed(run: id) }
            return (points, testbeds)
        }
        let analysis = Regressions.analyze(points, testbeds: testbeds, options: .init(), failOver: 5)
        #expect(analysis.testbeds.count == 2)
        let latency = try #require(analysis.changes.first { $0.metric == "latency_mean_us" })
        #expect(latency.run == "night-7")
        #expect(latency.position == 7)
        #expect(latency.regression && latency.still_in_effect)
        #expect(abs(latency.change_pct - 40) < 2)
        #expect(latency.provenance_changed == ["sut/sut kernel: Linux 6.1.0-18-amd64 -> Linux 6.1.0-21-amd64"])
        let throughput = try #require(analysis.changes.first { $0.metric == "transactions_per_sec" })
        #expect(throughput.regression && throughput.change_pct < -25)
        #expect(Set(analysis.failing(over: 5).map(\.run)) == ["night-7"])
        #expect(analysis.failing(over: 50).isEmpty)
        #expect(
            analysis.text(database: db, options: .init()).contains("REGRESSION rr-tcp-1 latency_mean_us: at night-7"))
        // --since after the change: nothing to fail on; --since the changed run itself: it is there.
        let later = Regressions.analyze(
            points, testbeds: testbeds, options: .init(), since: .run("night-8"), failOver: 5)
        #expect(later.failing(over: 5).isEmpty)
        let from = Regressions.analyze(
            points, testbeds: testbeds, options: .init(), since: Regressions.Since("2026-11-07"), failOver: 5)
        #expect(!from.failing(over: 5).isEmpty)
        // A regression that later recovered no longer fails the nightly job (a short bump between two
        // long stretches is not a change point for E-divisive with its t test, as for Otava: ten runs each).
        let bumpDB = scratch.path + "/bump.db"
        let jitter = Self.noise(30, mean: 0, sd: 0.5, seed: 5)
        let bump: [Double] = jitter.enumerated().map { i, e in (i >= 10 && i < 20 ? 70 : 50) + e }
        let recovered = try await HistoryStore.with(bumpDB, create: true) { store in
            for (i, latency) in bump.enumerated() {
                _ = try await store.add(
                    Self.entry(
                        "night-\(i + 1)", started: String(format: "2026-10-%02dT02:00:00Z", i + 1), latency: latency))
            }
            return Regressions.analyze(
                try await store.points(metric: "latency_mean_us"), testbeds: [:], options: .init(), failOver: 5,
                headlineOnly: false)
        }
        #expect(recovered.changes.map(\.run).sorted() == ["night-11", "night-21"])
        #expect(recovered.changes.contains { $0.run == "night-11" && $0.regression && !$0.still_in_effect })
        #expect(recovered.failing(over: 5).isEmpty)
    }

    @Test func sinceReadsDurationsDatesAndRunNames() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(Regressions.Since("7d", now: now) == .date(now.addingTimeInterval(-7 * 86400)))
        #expect(Regressions.Since("36h", now: now) == .date(now.addingTimeInterval(-36 * 3600)))
        #expect(Regressions.Since("2026-12-01", now: now) == .date(Regressions.parseDate("2026-12-01T00:00:00Z")!))
        #expect(Regressions.Since("nightly-42", now: now) == .run("nightly-42"))
    }

    // MARK: - Reference tools

    static let referenceScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/reference_stats.py").path

    /// The answer of Fixtures/reference_stats.py (Otava, scipy) to `request`. Fails, not skips,
    /// without them: `.ci/run` and install-deps.sh install them (pip install apache-otava scipy).
    static func reference(_ request: [String: Any]) throws -> Any {
        let run = try runFilter(
            ["python3", referenceScript], input: try JSONSerialization.data(withJSONObject: request))
        guard run.status == 0 else {
            throw ReferenceError(
                description: "reference_stats.py failed (pip install apache-otava scipy): \(run.stderr.suffix(400))")
        }
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
    }

    struct ReferenceError: Error, CustomStringConvertible { let description: String }
}
