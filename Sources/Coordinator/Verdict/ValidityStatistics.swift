import Foundation

/// The statistics the validity checks use, as pure functions (checked against scipy in
/// `ValidityStatisticsTests`).
enum ValidityStatistics {
    /// Spearman's rank correlation of `x[i]` with `x[i + lag]` and its two-sided p-value (the
    /// t approximation scipy's `spearmanr` uses); `nil` with fewer than 3 pairs or no spread.
    static func spearman(_ x: [Double], lag: Int) -> (rho: Double, p: Double)? {
        guard lag >= 1, x.count - lag >= 3 else { return nil }
        let a = Array(x[0..<(x.count - lag)])
        let b = Array(x[lag...])
        return spearman(a, b)
    }

    /// Spearman's rank correlation of two paired samples and its two-sided p-value.
    static func spearman(_ a: [Double], _ b: [Double]) -> (rho: Double, p: Double)? {
        guard a.count == b.count, a.count >= 3 else { return nil }
        let ra = Statistics.averageRanks(a).ranks
        let rb = Statistics.averageRanks(b).ranks
        guard let rho = pearson(ra, rb) else { return nil }
        let n = Double(a.count)
        if abs(rho) >= 1 { return (rho, 0) }
        let t = rho * ((n - 2) / ((1 - rho) * (1 + rho))).squareRoot()
        return (rho, Statistics.tTwoSidedP(t, degreesOfFreedom: n - 2))
    }

    /// Pearson's correlation; `nil` when either side has no spread.
    static func pearson(_ a: [Double], _ b: [Double]) -> Double? {
        let n = Double(a.count)
        let ma = a.reduce(0, +) / n
        let mb = b.reduce(0, +) / n
        var sab = 0.0
        var saa = 0.0
        var sbb = 0.0
        for i in a.indices {
            let da = a[i] - ma
            let db = b[i] - mb
            sab += da * db
            saa += da * da
            sbb += db * db
        }
        guard saa > 0, sbb > 0 else { return nil }
        return sab / (saa * sbb).squareRoot()
    }

    /// The Anderson-Darling statistic of `x` against an exponential with the sample's mean, and the
    /// 1% critical value for that case (scipy's `anderson(x, 'expon')`); `nil` for fewer than 8
    /// values or a non-positive mean.
    static func andersonDarlingExponential(_ x: [Double]) -> (statistic: Double, critical1: Double)? {
        guard x.count >= 8 else { return nil }
        let sorted = x.sorted()
        let n = Double(sorted.count)
        let mean = sorted.reduce(0, +) / n
        guard mean > 0 else { return nil }
        // F(x) = 1 - exp(-x / mean); log F and log(1 - F) taken with care at both ends.
        let logF = sorted.map { v -> Double in
            let z = -expm1(-max(v, 0) / mean)
            return log(max(z, 1e-300))
        }
        let logS = sorted.map { -max($0, 0) / mean }
        var sum = 0.0
        let count = sorted.count
        for i in 0..<count {
            sum += Double(2 * i + 1) * (logF[i] + logS[count - 1 - i])
        }
        let a2 = -n - sum / n
        return (a2, 1.957 / (1 + 0.6 / n))
    }

    /// The Mann-Kendall trend test: S, its normal score with the tie correction, the two-sided
    /// p-value, and Sen's slope (the median of the pairwise slopes) per sample.
    static func mannKendall(_ x: [Double]) -> (s: Double, z: Double, p: Double, slope: Double)? {
        let n = x.count
        guard n >= 4 else { return nil }
        var s = 0.0
        var slopes: [Double] = []
        slopes.reserveCapacity(n * (n - 1) / 2)
        for i in 0..<(n - 1) {
            for j in (i + 1)..<n {
                let d = x[j] - x[i]
                s += d > 0 ? 1 : (d < 0 ? -1 : 0)
                slopes.append(d / Double(j - i))
            }
        }
        var ties: [Double: Int] = [:]
        for v in x { ties[v, default: 0] += 1 }
        let nd = Double(n)
        var variance = nd * (nd - 1) * (2 * nd + 5)
        for t in ties.values where t > 1 {
            let td = Double(t)
            variance -= td * (td - 1) * (2 * td + 5)
        }
        variance /= 18
        let z = variance > 0 ? (s > 0 ? (s - 1) : (s < 0 ? s + 1 : 0)) / variance.squareRoot() : 0
        return (s, z, 2 * Statistics.normalSurvival(abs(z)), median(slopes))
    }

    /// MSER's truncation point (White 1997): the `d` in `0...n/2` that minimizes the squared standard
    /// error of the mean of `x[d...]`, `sum((x_i - mean_d)^2) / (n - d)^2`.
    static func mserTruncation(_ x: [Double]) -> Int {
        guard x.count >= 4 else { return 0 }
        var best = (d: 0, value: Double.infinity)
        for d in 0...(x.count / 2) {
            let rest = x[d...]
            let m = rest.reduce(0, +) / Double(rest.count)
            let value = rest.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(rest.count * rest.count)
            if value < best.value { best = (d, value) }
        }
        return best.d
    }

    /// `x` less its running median over `window` samples (centred, shorter at the ends): what is
    /// left once slow drift is taken out, which the steady-state check judges instead.
    static func runningMedianResiduals(_ x: [Double], window: Int) -> [Double] {
        guard x.count > 2, window > 1 else { return x }
        let half = window / 2
        var out = [Double](repeating: 0, count: x.count)
        for i in x.indices {
            let slice = x[max(0, i - half)...min(x.count - 1, i + half)].sorted()
            let m =
                slice.count % 2 == 1
                ? slice[slice.count / 2] : (slice[slice.count / 2 - 1] + slice[slice.count / 2]) / 2
            out[i] = x[i] - m
        }
        return out
    }

    /// The median (`0` for none).
    static func median(_ x: [Double]) -> Double {
        guard !x.isEmpty else { return 0 }
        let s = x.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// The samples a percentile `q` (0...100) needs before it is printed: about `7 / (1 - q)`, so that
    /// the upper end of its 95% order-statistic interval lies inside the data (p99: 700, p99.9:
    /// 7,000, p99.99: 70,000).
    static func samplesNeeded(percentile q: Double) -> Int {
        let tail = max(1 - q / 100, 1e-9)
        return Int((7 / tail - 1e-6).rounded(.up))  // 99.9 is not exact in binary
    }

    /// The 95% order-statistic interval of the `q`th percentile from `n` samples: the ranks
    /// `nq ± 1.96 sqrt(nq(1-q))` (1-based, clamped to the data), as fractions of `n` for a histogram's
    /// `valueAtPercentile`.
    static func percentileRanks(_ q: Double, n: Int) -> (low: Double, high: Double) {
        let p = q / 100
        let nd = Double(n)
        let half = 1.96 * (nd * p * (1 - p)).squareRoot()
        let low = max(1, (nd * p - half).rounded(.down))
        let high = min(nd, (nd * p + half).rounded(.up))
        return (low / nd * 100, high / nd * 100)
    }
}
