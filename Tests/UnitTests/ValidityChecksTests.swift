import Foundation
import Shared
import Testing

@testable import Agent
@testable import Coordinator

/// The validity checks' statistics against scipy, and each check on a series built to pass it and
/// one built to fail it.
@Suite struct ValidityChecksTests {
    // MARK: - Statistics against scipy 1.x

    @Test func spearmanAtLagOneMatchesScipy() throws {
        // scipy.stats.spearmanr(x[:-1], x[1:])
        let x = [3.1, 2.7, 4.5, 1.2, 5.5, 3.3, 2.2, 6.1, 4.4, 3.9, 2.8, 5.1]
        let r = try #require(ValidityStatistics.spearman(x, lag: 1))
        #expect(abs(r.rho - -0.590909090909091) < 1e-12)
        #expect(abs(r.p - 0.0555756042887746) < 1e-9)
    }

    @Test func andersonDarlingExponentialMatchesScipy() throws {
        // scipy.stats.anderson(g, 'expon'): statistic 0.138445694242524, 1% critical 1.864
        let g = [0.5, 1.2, 0.1, 2.3, 0.7, 0.05, 1.9, 0.3, 0.9, 1.1, 0.2, 3.0]
        let ad = try #require(ValidityStatistics.andersonDarlingExponential(g))
        #expect(abs(ad.statistic - 0.138445694242524) < 1e-9)
        #expect(abs(ad.critical1 - 1.864) < 1e-3)
    }

    @Test func mannKendallMatchesTheNormalApproximationAndSensSlopeScipys() throws {
        // S = 24 (Kendall's tau 0.857 * 28 pairs), z = 23 / sqrt(8*7*21/18), p = 2 * norm.sf(z);
        // scipy.stats.theilslopes(y)[0] = 0.6667
        let y = [10, 11, 10.5, 12, 13, 12.5, 14, 15]
        let mk = try #require(ValidityStatistics.mannKendall(y))
        #expect(mk.s == 24)
        #expect(abs(mk.z - 2.84551204100601) < 1e-9)
        #expect(abs(mk.p - 0.00443400830310065) < 1e-9)
        #expect(abs(mk.slope - 0.6666666666666666) < 1e-12)
    }

    @Test func mserCutsAWarmUpAndNothingFromASteadySeries() {
        #expect(ValidityStatistics.mserTruncation([10, 30, 60, 100, 101, 99, 100, 100, 98, 101]) == 3)
        #expect(ValidityStatistics.mserTruncation([100, 101, 99, 100, 100, 98, 101, 100]) == 0)
    }

    @Test func percentilesNeedAboutSevenOverTheTail() {
        #expect(ValidityStatistics.samplesNeeded(percentile: 99) == 700)
        #expect(ValidityStatistics.samplesNeeded(percentile: 99.9) == 7000)
        #expect(ValidityStatistics.samplesNeeded(percentile: 99.99) == 70000)
        // Ranks 990 ± 1.96 * sqrt(9.9) of 1000: 983 and 997.
        let r = ValidityStatistics.percentileRanks(99, n: 1000)
        #expect(abs(r.low - 98.3) < 1e-9 && abs(r.high - 99.7) < 1e-9)
    }

    // MARK: - Each check, passing and failing

    /// Evidence of a quiet, sound step; each test spoils one part of it.
    static func sound() -> StepEvidence {
        var rng = SplitMix64(seed: 7)
        func uniform() -> Double { Double(rng.next() >> 11) / 9_007_199_254_740_992 }
        let series = (0..<4000).map { _ in Float(50 + 10 * uniform()) }
        return StepEvidence(
            step: "s", workload: "rr", windowSeconds: 10, warmupSeconds: 1, completion: false,
            generators: [.init(agent: "peer", threadBusy: [0.4, 0.5])], offeredRate: nil, achievedRate: nil,
            arrivals: nil, sendGapsUs: nil, latencySeries: LatencySeries(tickNs: 1_000_000, valuesUs: series),
            latencyCount: 200_000, percentiles: [], rateSeries: [100, 101, 99, 100, 102, 98, 100, 101, 99, 100],
            hosts: [.init(agent: "sut", role: "sut", othersCPU: 0.01, top: [])], sutBusiestCPU: 0.5)
    }

    @Test func aSoundStepPassesEveryCheck() {
        let checks = StepChecks.all(Self.sound())
        #expect(
            checks.map(\.name) == [
                "generator-headroom", "too-short", "arrivals", "independence", "steady-state", "sample-size",
                "quiet-host",
            ])
        #expect(checks.filter { !$0.passed }.isEmpty, "\(checks.filter { !$0.passed }.map(\.summary))")
        #expect(Verdict(checks) == .valid)
    }

    @Test func aGeneratorThreadBusierThanNinetyPercentFailsHeadroom() {
        var e = Self.sound()
        e.generators = [.init(agent: "peer", threadBusy: [0.3, 0.97])]
        let check = StepChecks.generatorHeadroom(e)
        #expect(!check.passed)
        #expect(check.figures["busiest_thread_busy"] == 0.97)
        #expect(Verdict(StepChecks.all(e)) == .suspect)
    }

    @Test func aWindowUnderTwoSecondsIsTooShort() {
        var e = Self.sound()
        e.windowSeconds = 0.8
        #expect(!StepChecks.tooShort(e).passed)
        e.windowSeconds = 2
        #expect(StepChecks.tooShort(e).passed)
    }

    @Test func openLoopArrivalsPassWithinTenPercentAndExponentialGaps() {
        var e = Self.sound()
        #expect(!StepChecks.arrivals(e).applies)
        e.offeredRate = 10_000
        e.achievedRate = 9_500
        #expect(StepChecks.arrivals(e).passed)
        e.achievedRate = 8_000
        #expect(!StepChecks.arrivals(e).passed)
        // Poisson: exponential gaps pass, evenly spaced ones fail the Anderson-Darling test.
        e.achievedRate = 10_000
        e.arrivals = "poisson"
        var rng = SplitMix64(seed: 3)
        e.sendGapsUs = (0..<2000).map { _ in Float(-log((Double(rng.next() >> 11) + 1) / 9_007_199_254_740_992) * 100) }
        let good = StepChecks.arrivals(e)
        #expect(good.passed, "\(good.summary)")
        e.sendGapsUs = (0..<2000).map { _ in 100 }
        #expect(!StepChecks.arrivals(e).passed)
    }

    @Test func correlatedLatenciesFailIndependenceAndReportRhoAndLag() throws {
        var e = Self.sound()
        // 50-sample runs of falling waits every 200 samples: a server that stalls 50 ms of every 200 ms.
        var values: [Float] = []
        for i in 0..<4000 {
            let phase = i % 200
            values.append(phase < 50 ? Float(50_000 - phase * 1000) : 55)
        }
        e.latencySeries = LatencySeries(tickNs: 1_000_000, valuesUs: values)
        let check = StepChecks.independence(e)
        #expect(!check.passed)
        let rho = try #require(check.figures["rho"])
        #expect(rho > 0.5)
        let quiet = StepChecks.independence(Self.sound())
        #expect(quiet.passed)
        #expect(try #require(quiet.figures["rho"]) < rho)
    }

    @Test func aDropOrATrendInTheRateFailsSteadyState() {
        var e = Self.sound()
        e.rateSeries = [100, 101, 99, 100, 102, 3, 0, 0, 0, 0]
        #expect(!StepChecks.steadyState(e).passed)
        e.rateSeries = [60, 65, 70, 75, 80, 85, 90, 95, 100, 105]
        #expect(!StepChecks.steadyState(e).passed)
        e.rateSeries = [20, 60, 100, 101, 99, 100, 102, 98, 100, 101]
        let warm = StepChecks.steadyState(e)
        #expect(!warm.passed)
        #expect(warm.figures["warmup_needed_s"] == 3)
        e.rateSeries = [100, 101, 99]
        #expect(!StepChecks.steadyState(e).applies)
    }

    @Test func fewerSamplesThanAP99NeedsFailSampleSize() {
        var e = Self.sound()
        e.latencyCount = 500
        #expect(!StepChecks.sampleSize(e).passed)
        e.latencyCount = 2000
        let check = StepChecks.sampleSize(e)
        #expect(check.passed)
        #expect(check.note.contains("p99.9"))
    }

    @Test func otherProcessesAboveAFifthOfACPUFailQuietHostAndAreNamed() throws {
        var e = Self.sound()
        e.hosts = [
            .init(
                agent: "sut", role: "sut", othersCPU: 0.98,
                top: [ProcessCPU(pid: 42, command: "python3: hog", cpuSeconds: 2.9)])
        ]
        let check = StepChecks.quietHost(e)
        #expect(!check.passed)
        #expect(try #require(check.processes).first?.command == "python3: hog")
        #expect(check.note.contains("python3"))
    }

    @Test func repeatabilityFailsAboveAQuarterOfVariation() {
        #expect(!StepChecks.repeatability([100, 101]).applies)
        #expect(StepChecks.repeatability([100, 101, 99]).passed)
        #expect(!StepChecks.repeatability([50, 100, 150]).passed)
    }

    @Test func aCheckEncodesItsFiguresFlatAndReadsBack() throws {
        let check = StepCheck(.independence, passed: false, note: "x", figures: ["rho": 0.5, "lag": 5])
        let data = try JSONEncoder().encode(check)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["name"] as? String == "independence")
        #expect(object["passed"] as? Bool == false)
        #expect(object["rho"] as? Double == 0.5)
        #expect(try JSONDecoder().decode(StepCheck.self, from: data) == check)
    }

    @Test func theRecorderFillsStalledTicksWithTheirWaitsAndHalvesWhenFull() throws {
        let recorder = LatencySeriesRecorder(windowStart: 0, tickNs: 10, capacity: 8)
        // A request sent at 0 and answered at 5, then nothing until one sent at 40, answered at 45.
        recorder.record(sentNs: 0, doneNs: 5)
        recorder.record(sentNs: 40, doneNs: 45)
        let series = try #require(recorder.series)
        #expect(series.valuesUs.map { (Double($0) * 1000).rounded() } == [5, 35, 25, 15, 5])
        recorder.record(sentNs: 100, doneNs: 101)
        let halved = try #require(recorder.series)
        #expect(halved.tickNs == 20)
        #expect(halved.valuesUs.count <= 8)
    }
}

/// What `--retry-suspect` changes for each kind of failure.
@Suite struct RetrySuspectTests {
    static let step = ScheduledStep(
        id: "rr-tcp-1",
        planned: PlannedStep(
            Workload(RRSpec()), timing: StepTiming(warmupNs: 500_000_000, durationNs: 1_000_000_000),
            placement: Placement()))

    @Test func aWarmUpStillGoingGetsTheWarmUpMSERAsked() throws {
        let steady = StepCheck(.steadyState, passed: false, note: "", figures: ["warmup_needed_s": 3.5])
        let (next, change) = try #require(BenchmarkRun.retry(Self.step, after: [steady]))
        #expect(next.planned.timing.warmupNs == 3_500_000_000)
        #expect(change == "warm-up 0.5s -> 3.5s")
    }

    @Test func tooShortOrTooFewSamplesGetsALongerWindow() throws {
        let short = StepCheck(.tooShort, passed: false, note: "")
        let (next, change) = try #require(BenchmarkRun.retry(Self.step, after: [short]))
        #expect(next.planned.timing.durationNs == 2_000_000_000)
        #expect(change == "window 1s -> 2s")
        #expect(next.id == Self.step.id)
    }

    @Test func aBusyHostOrGeneratorIsTheUsersToFix() {
        let quiet = StepCheck(.quietHost, passed: false, note: "")
        let headroom = StepCheck(.generatorHeadroom, passed: false, note: "")
        #expect(BenchmarkRun.retry(Self.step, after: [quiet, headroom]) == nil)
    }
}
