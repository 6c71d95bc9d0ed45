import Foundation

/// The statistics of a plan's cells: Student-t confidence intervals of a mean (netperf's `-i/-I`
/// rule) and of a ratio of two means (the delta method).
enum Statistics {
    /// A sample's summary and its confidence interval at `level`.
    struct Summary: Equatable, Sendable {
        var n: Int
        var mean: Double
        /// Sample standard deviation (n - 1); 0 for one value.
        var standardDeviation: Double
        /// Half-width of the interval; `nil` below two values.
        var halfWidth: Double?
        var minimum: Double
        var maximum: Double
        var median: Double

        /// The whole interval as a percentage of the mean (netperf's width); `nil` below two values
        /// or for a zero mean.
        var widthPercent: Double? {
            guard let halfWidth, mean != 0 else { return nil }
            return 2 * halfWidth / abs(mean) * 100
        }

        /// Whether the interval is within `width` percent (full width over the mean).
        func meets(widthPercent target: Double) -> Bool {
            guard let width = widthPercent else { return false }
            return width <= target
        }
    }

    /// The summary of `values` with the Student-t interval at `level` (0.95, 0.99); `nil` for none.
    static func summary(_ values: [Double], level: Double) -> Summary? {
        guard !values.isEmpty else { return nil }
        let n = values.count
        let mean = values.reduce(0, +) / Double(n)
        let variance = n > 1 ? values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1) : 0
        let sd = variance.squareRoot()
        let sorted = values.sorted()
        let median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        var half: Double?
        if n > 1 {
            half = tQuantile(1 - (1 - level) / 2, degreesOfFreedom: Double(n - 1)) * sd / Double(n).squareRoot()
        }
        return Summary(
            n: n, mean: mean, standardDeviation: sd, halfWidth: half, minimum: sorted[0], maximum: sorted[n - 1],
            median: median)
    }

    /// A ratio of two means with its interval.
    struct Ratio: Equatable, Sendable {
        var value: Double
        var low: Double?
        var high: Double?
        /// How the interval was found.
        static let method = "delta method, Welch-Satterthwaite degrees of freedom"
    }

    /// `a.mean / b.mean` with its interval at `level` by the delta method: the ratio's relative
    /// variance is the sum of the means' relative variances, with Welch-Satterthwaite degrees of
    /// freedom. `nil` when `b`'s mean is zero; no interval below two values on either side.
    static func ratio(_ a: Summary, over b: Summary, level: Double) -> Ratio? {
        guard b.mean != 0 else { return nil }
        let r = a.mean / b.mean
        guard a.n > 1, b.n > 1, a.mean != 0 else { return Ratio(value: r, low: nil, high: nil) }
        let va = a.standardDeviation * a.standardDeviation / Double(a.n) / (a.mean * a.mean)
        let vb = b.standardDeviation * b.standardDeviation / Double(b.n) / (b.mean * b.mean)
        let relative = (va + vb).squareRoot()
        guard relative > 0 else { return Ratio(value: r, low: r, high: r) }
        let sum: Double = va + vb
        let parts: Double = va * va / Double(a.n - 1) + vb * vb / Double(b.n - 1)
        let df = sum * sum / parts
        let half = tQuantile(1 - (1 - level) / 2, degreesOfFreedom: df) * abs(r) * relative
        return Ratio(value: r, low: r - half, high: r + half)
    }

    /// Welch's two-sample t test of `b`'s mean against `a`'s: the statistic, its Welch-Satterthwaite
    /// degrees of freedom and the two-sided p-value; `nil` below two values on either side.
    static func welch(_ a: Summary, _ b: Summary) -> (t: Double, df: Double, p: Double)? {
        guard a.n > 1, b.n > 1 else { return nil }
        let va = a.standardDeviation * a.standardDeviation / Double(a.n)
        let vb = b.standardDeviation * b.standardDeviation / Double(b.n)
        guard va + vb > 0 else {
            return a.mean == b.mean ? (0, Double(a.n + b.n - 2), 1) : (.infinity, Double(a.n + b.n - 2), 0)
        }
        let t = (b.mean - a.mean) / (va + vb).squareRoot()
        let parts: Double = va * va / Double(a.n - 1) + vb * vb / Double(b.n - 1)
        let df = (va + vb) * (va + vb) / parts
        return (t, df, tTwoSidedP(t, degreesOfFreedom: df))
    }

    /// The `p` quantile (0.5 < p < 1) of Student's t with `df` degrees of freedom, by bisection on
    /// the distribution function.
    static func tQuantile(_ p: Double, degreesOfFreedom df: Double) -> Double {
        var low = 0.0
        var high = 1.0
        while tCDF(high, degreesOfFreedom: df) < p && high < 1e7 { high *= 2 }
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if tCDF(mid, degreesOfFreedom: df) < p { low = mid } else { high = mid }
            if high - low < 1e-12 * max(1, high) { break }
        }
        return (low + high) / 2
    }

    /// The two-sided p-value of Student's t statistic `t` with `df` degrees of freedom, from the
    /// tail itself (no `1 - cdf` cancellation, so tiny p-values keep their digits).
    static func tTwoSidedP(_ t: Double, degreesOfFreedom df: Double) -> Double {
        guard t.isFinite else { return t.isNaN ? 1 : 0 }
        return min(max(regularizedBeta(df / (df + t * t), df / 2, 0.5), 0), 1)
    }

    /// Student's t distribution function at `t` with `df` degrees of freedom.
    static func tCDF(_ t: Double, degreesOfFreedom df: Double) -> Double {
        let x = df / (df + t * t)
        let tail = 0.5 * regularizedBeta(x, df / 2, 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The regularized incomplete beta function I_x(a, b), by its continued fraction (Lentz).
    static func regularizedBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logGammas: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logPowers: Double = a * log(x) + b * log(1 - x)
        let front = exp(logGammas + logPowers)
        // The fraction converges fast below the mean of the distribution; use the symmetry above it.
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedBeta(1 - x, b, a) }
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var f = d
        for m in 1...300 {
            let m = Double(m)
            let twoM: Double = 2 * m
            let evenTop: Double = m * (b - m) * x
            let evenBottom: Double = (a + twoM - 1) * (a + twoM)
            let even = evenTop / evenBottom
            d = 1 + even * d
            if abs(d) < tiny { d = tiny }
            c = 1 + even / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            f *= d * c
            let oddTop: Double = -(a + m) * (a + b + m) * x
            let oddBottom: Double = (a + twoM) * (a + twoM + 1)
            let odd = oddTop / oddBottom
            d = 1 + odd * d
            if abs(d) < tiny { d = tiny }
            c = 1 + odd / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            f *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return front * f / a
    }
}
