import Foundation
import Shared

/// The validity checks of one step: each a pure function of its ``StepEvidence`` that returns a
/// ``StepCheck`` (passed or failed, with its figures). Thresholds are named here, once, and the
/// README's "How far to trust a number" says each in one line with the reference it follows.
enum StepChecks {
    /// A generator thread busier than this share of the window may itself have set the rate
    /// (Locust warns at 90% generator CPU).
    static let generatorBusyLimit = 0.9
    /// A window shorter than this is too short to be a finding.
    static let shortestWindowSeconds = 2.0
    /// Open loop: the achieved rate within this fraction of the offered (Lancet: 10%).
    static let rateTolerance = 0.10
    /// Lancet's independence rule: consecutive latencies pass while Spearman's p-value stays above this.
    static let independenceP = 1e-10
    /// Samples of the running median taken out of the latency series before the test (101 ms at
    /// one per millisecond: longer than the stalls it must see, shorter than the drift it must not).
    static let detrendWindow = 101
    /// Latencies may stay correlated over at most this long (the first independent lag's interval):
    /// longer, they come in episodes (stalls, pauses) that the percentiles sample as clusters.
    static let longestCorrelationMs = 10.0
    /// And the window must hold at least this many samples that far apart.
    static let fewestIndependentSamples = 100.0
    /// The lags Lancet tries after the first, in order.
    static let lags = [2, 5, 10, 25, 50, 100, 250, 500, 1000]
    /// Steady state: a trend (Mann-Kendall p below `trendP`) that moves the rate by more than
    /// `trendChange` over the window, the two halves' means apart by more than `shiftChange`, or
    /// MSER's warm-up whose seconds differ from the rest by more than `warmupChange`.
    static let trendP = 0.05
    static let trendChange = 0.10
    static let shiftChange = 0.25
    static let warmupChange = 0.20
    /// CPU per second of the window used by processes outside the step above which a host is not quiet.
    static let othersCPULimit = 0.2
    /// Repeatability: a cell's coefficient of variation across repetitions above this is not repeatable.
    static let repeatabilityCV = 0.25

    /// Every per-step check, in the order the tables list them (repeatability is a cell's: ``repeatability(_:)``).
    static func all(_ e: StepEvidence) -> [StepCheck] {
        [
            generatorHeadroom(e), tooShort(e), arrivals(e), independence(e), steadyState(e), sampleSize(e),
            quietHost(e),
        ]
    }

    static func generatorHeadroom(_ e: StepEvidence) -> StepCheck {
        let threads = e.generators.flatMap { g in g.threadBusy.map { (g.agent, $0) } }
        let cpus = Set(e.generators.flatMap { $0.threadCPUs ?? [] }.flatMap { $0 }).sorted()
        let ran = cpus.isEmpty ? "" : " (threads seen on CPUs \(cpus.map(String.init).joined(separator: ",")))"
        guard let busiest = threads.max(by: { $0.1 < $1.1 }) else {
            return .notApplicable(.generatorHeadroom, "no load generator of lockstep's in this step")
        }
        var figures = ["busiest_thread_busy": busiest.1, "threads": Double(threads.count)]
        if let sut = e.sutBusiestCPU { figures["sut_busiest_cpu"] = sut }
        let pct = Int((busiest.1 * 100).rounded())
        if busiest.1 > generatorBusyLimit {
            return StepCheck(
                .generatorHeadroom, passed: false,
                note:
                    "a generator thread on \(busiest.0) was busy \(pct)% of the window: the generator, not the SUT, may have set the rate"
                    + ran,
                figures: figures)
        }
        return StepCheck(
            .generatorHeadroom, passed: true, note: "the busiest generator thread was busy \(pct)% of the window" + ran,
            figures: figures)
    }

    static func tooShort(_ e: StepEvidence) -> StepCheck {
        let figures = ["window_s": e.windowSeconds, "needed_s": shortestWindowSeconds]
        let what = e.completion ? "the engine ran" : "the window was"
        guard e.windowSeconds >= shortestWindowSeconds else {
            return StepCheck(
                .tooShort, passed: false,
                note: String(
                    format: "%@ %.2f s: under %.0f s is noise, not a finding", what, e.windowSeconds,
                    shortestWindowSeconds),
                figures: figures)
        }
        return StepCheck(
            .tooShort, passed: true, note: String(format: "%@ %.1f s", what, e.windowSeconds), figures: figures)
    }

    static func arrivals(_ e: StepEvidence) -> StepCheck {
        guard let offered = e.offeredRate, offered > 0 else {
            return .notApplicable(.arrivals, "closed loop: no intended arrival process")
        }
        guard let achieved = e.achievedRate else { return .notApplicable(.arrivals, "no achieved rate recorded") }
        let ratio = achieved / offered
        var figures = ["offered": offered, "achieved": achieved, "achieved_ratio": ratio]
        var failures: [String] = []
        if abs(ratio - 1) > rateTolerance {
            failures.append(
                String(format: "achieved %.0f/s of %.0f/s offered (%.0f%%)", achieved, offered, ratio * 100))
        }
        if e.arrivals == "poisson", let gaps = e.sendGapsUs,
            let ad = ValidityStatistics.andersonDarlingExponential(gaps.map(Double.init))
        {
            figures["anderson_darling"] = ad.statistic
            figures["anderson_darling_limit"] = 2 * ad.critical1
            figures["gaps"] = Double(gaps.count)
            if ad.statistic >= 2 * ad.critical1 {
                failures.append(
                    String(
                        format: "send gaps are not exponential (A² %.2f, limit %.2f)", ad.statistic, 2 * ad.critical1))
            }
        }
        guard failures.isEmpty else {
            return StepCheck(.arrivals, passed: false, note: failures.joined(separator: "; "), figures: figures)
        }
        return StepCheck(
            .arrivals, passed: true,
            note: String(format: "achieved %.0f%% of the offered rate", ratio * 100)
                + (figures["anderson_darling"] != nil ? ", gaps exponential" : ""),
            figures: figures)
    }

    static func independence(_ e: StepEvidence) -> StepCheck {
        guard let series = e.latencySeries, series.valuesUs.count >= 30 else {
            return .notApplicable(.independence, "fewer than 30 latencies in send order")
        }
        let x = ValidityStatistics.runningMedianResiduals(series.valuesUs.map(Double.init), window: detrendWindow)
        guard let first = ValidityStatistics.spearman(x, lag: 1) else {
            return .notApplicable(.independence, "the latencies do not vary")
        }
        let tickMs = Double(series.tickNs) / 1e6
        var figures = ["rho": first.rho, "p": first.p, "lag": 1, "samples": Double(x.count), "tick_ms": tickMs]
        if first.p > independenceP {
            figures["interval_ms"] = tickMs
            return StepCheck(
                .independence, passed: true,
                note: String(format: "consecutive latencies uncorrelated (lag-1 rho %.3f)", first.rho), figures: figures
            )
        }
        let passing = lags.first { lag in
            guard x.count - lag >= 30, let r = ValidityStatistics.spearman(x, lag: lag) else { return false }
            return r.p > independenceP
        }
        // Lancet's rule: correlated samples are taken further apart, at the first lag that passes;
        // the step holds as many independent samples as its window has such intervals. Correlation
        // that lasts longer than `longestCorrelationMs` is an episode (a stall), not sampling noise.
        let interval = passing.map { Double($0) * tickMs }
        let independent = interval.map { e.windowSeconds * 1e3 / $0 }
        if let passing { figures["lag"] = Double(passing) }
        figures["interval_ms"] = interval
        figures["independent_samples"] = independent
        let head = String(format: "consecutive latencies correlated (lag-1 rho %.3f)", first.rho)
        guard let passing, let interval, let independent, interval <= longestCorrelationMs,
            independent >= fewestIndependentSamples
        else {
            return StepCheck(
                .independence, passed: false,
                note: head
                    + (interval.map {
                        String(
                            format:
                                "; independent only %.0f ms apart (%.0f independent samples): episodes longer than %.0f ms",
                            $0, independent ?? 0, longestCorrelationMs)
                    } ?? "; no lag up to 1000 is independent"),
                figures: figures)
        }
        return StepCheck(
            .independence, passed: true,
            note: head
                + String(
                    format: "; independent %.0f ms apart (lag %d): %.0f independent samples", interval, passing,
                    independent),
            figures: figures)
    }

    static func steadyState(_ e: StepEvidence) -> StepCheck {
        let x = e.rateSeries
        guard x.count >= 4 else {
            return .notApplicable(.steadyState, "fewer than 4 whole seconds in the window to test")
        }
        let mean = x.reduce(0, +) / Double(x.count)
        guard mean > 0 else { return StepCheck(.steadyState, passed: false, note: "no progress in the window") }
        var figures: [String: Double] = ["seconds": Double(x.count)]
        var failures: [String] = []
        if let mk = ValidityStatistics.mannKendall(x) {
            let change = mk.slope * Double(x.count - 1) / mean
            figures["trend_p"] = mk.p
            figures["trend_change"] = change
            if mk.p < trendP && abs(change) > trendChange {
                failures.append(
                    String(format: "the rate trends %+.0f%% over the window (Mann-Kendall p %.3f)", change * 100, mk.p))
            }
        }
        let half = x.count / 2
        let first = x[..<half].reduce(0, +) / Double(half)
        let second = x[(x.count - half)...].reduce(0, +) / Double(half)
        let shift = (second - first) / mean
        figures["halves_change"] = shift
        if abs(shift) > shiftChange {
            failures.append(String(format: "the second half's rate is %+.0f%% off the first's", shift * 100))
        }
        let d = ValidityStatistics.mserTruncation(x)
        if d > 0 {
            let head = x[..<d].reduce(0, +) / Double(d)
            let rest = x[d...].reduce(0, +) / Double(x.count - d)
            if rest > 0, abs(head - rest) / rest > warmupChange {
                figures["warmup_needed_s"] = e.warmupSeconds + Double(d)
                failures.append(
                    String(
                        format: "still warming up for %d s (MSER): the warm-up should have been at least %.0f s", d,
                        e.warmupSeconds + Double(d)))
            }
        }
        guard failures.isEmpty else {
            return StepCheck(.steadyState, passed: false, note: failures.joined(separator: "; "), figures: figures)
        }
        return StepCheck(
            .steadyState, passed: true, note: "no trend, shift or warm-up in \(x.count) s", figures: figures)
    }

    static func sampleSize(_ e: StepEvidence) -> StepCheck {
        guard let n = e.latencyCount else { return .notApplicable(.sampleSize, "no latency histogram") }
        var figures = ["samples": Double(n)]
        for p in e.percentiles ?? [] {
            let key = "p" + String(format: "%g", p.q).replacingOccurrences(of: ".", with: "")
            figures["\(key)_low"] = p.low
            figures["\(key)_high"] = p.high
        }
        let needed = ValidityStatistics.samplesNeeded(percentile: 99)
        let withheld = StepEvidence.percentilesShown.filter { n < ValidityStatistics.samplesNeeded(percentile: $0) }
        let tail =
            withheld.first.map {
                String(
                    format: "; p%g and beyond not shown (needs %d)", $0,
                    ValidityStatistics.samplesNeeded(percentile: $0))
            } ?? ""
        guard n >= needed else {
            return StepCheck(
                .sampleSize, passed: false, note: "\(n) samples: too few for a p99 (needs \(needed))\(tail)",
                figures: figures)
        }
        return StepCheck(.sampleSize, passed: true, note: "\(n) samples\(tail)", figures: figures)
    }

    static func quietHost(_ e: StepEvidence) -> StepCheck {
        guard !e.hosts.isEmpty else { return .notApplicable(.quietHost, "no agent reported its other processes") }
        var figures: [String: Double] = [:]
        var loud: [StepEvidence.Host] = []
        for host in e.hosts {
            figures["\(host.role)_others_cpu"] = max(figures["\(host.role)_others_cpu"] ?? 0, host.othersCPU)
            if host.othersCPU > othersCPULimit { loud.append(host) }
        }
        figures["others_cpu_max"] = e.hosts.map(\.othersCPU).max()
        figures["limit"] = othersCPULimit
        let named = (loud.isEmpty ? e.hosts : loud).flatMap { host in
            host.top.map {
                StepCheck.Process(host: host.agent, pid: $0.pid, command: $0.command, cpu_seconds: $0.cpuSeconds)
            }
        }
        guard let worst = loud.max(by: { $0.othersCPU < $1.othersCPU }) else {
            return StepCheck(
                .quietHost, passed: true,
                note: String(format: "other processes used at most %.2f CPU", figures["others_cpu_max"] ?? 0),
                figures: figures, processes: named.isEmpty ? nil : Array(named.prefix(5)))
        }
        let names = worst.top.prefix(3).map { String($0.command.prefix(40)) }.joined(separator: ", ")
        return StepCheck(
            .quietHost, passed: false,
            note: String(
                format: "%@ (%@) was busy with %.2f CPU of other processes: %@", worst.agent, worst.role,
                worst.othersCPU, names),
            figures: figures, processes: named)
    }

    /// The repeatability of a cell: the coefficient of variation of its headline over the
    /// repetitions so far (at least 3 to apply).
    static func repeatability(_ headlines: [Double]) -> StepCheck {
        guard headlines.count >= 3, let summary = Statistics.summary(headlines, level: 0.95) else {
            return .notApplicable(.repeatability, "fewer than 3 repetitions of the cell")
        }
        let cv = summary.mean != 0 ? summary.standardDeviation / abs(summary.mean) : 0
        let figures = ["cv": cv, "repetitions": Double(headlines.count), "limit": repeatabilityCV]
        guard cv <= repeatabilityCV else {
            return StepCheck(
                .repeatability, passed: false,
                note: String(format: "the cell's repetitions vary by %.0f%% (coefficient of variation)", cv * 100),
                figures: figures)
        }
        return StepCheck(
            .repeatability, passed: true, note: String(format: "repetitions vary by %.1f%%", cv * 100), figures: figures
        )
    }
}
