import Foundation

extension Statistics {
    /// A Mann-Whitney U test's result.
    struct MannWhitney: Equatable, Sendable {
        /// U of the first sample (scipy's `statistic`).
        var u: Double
        /// Two-sided p-value.
        var p: Double
        /// `exact` (the permutation distribution, no ties and a side of 8 or fewer) or `normal`
        /// (with tie and continuity corrections).
        var method: String
        /// The smallest two-sided p-value these sample sizes can give: above alpha, no difference
        /// can be significant however large.
        var smallestP: Double
    }

    /// The two-sided Mann-Whitney U test of `a` against `b`, as scipy's `mannwhitneyu` does it with
    /// `method="auto"`: exact when either side has 8 or fewer values and there are no ties, else the
    /// normal approximation with the tie correction and a continuity correction; `nil` for an empty side.
    static func mannWhitney(_ a: [Double], _ b: [Double]) -> MannWhitney? {
        guard !a.isEmpty, !b.isEmpty else { return nil }
        let n1 = a.count
        let n2 = b.count
        let (ranks, tieSizes) = averageRanks(a + b)
        let r1 = ranks[0..<n1].reduce(0, +)
        let u1 = r1 - Double(n1 * (n1 + 1)) / 2
        let u = max(u1, Double(n1 * n2) - u1)
        let ties = tieSizes.contains { $0 > 1 }
        let smallest = min(1, 2 / binomial(n1 + n2, n1))
        if !(n1 > 8 && n2 > 8) && !ties {
            let counts = uCounts(n1, n2)
            let total = counts.reduce(0, +)
            let atLeast = counts[Int(u)...].reduce(0, +)
            return MannWhitney(u: u1, p: min(1, 2 * atLeast / total), method: "exact", smallestP: smallest)
        }
        let n = Double(n1 + n2)
        let tieTerm = tieSizes.map { Double($0 * $0 * $0 - $0) }.reduce(0, +)
        let sd = (Double(n1 * n2) / 12 * ((n + 1) - tieTerm / (n * (n - 1)))).squareRoot()
        let z = (u - Double(n1 * n2) / 2 - 0.5) / sd
        let p = sd > 0 ? min(1, max(0, 2 * normalSurvival(z))) : 1
        return MannWhitney(u: u1, p: p, method: "normal", smallestP: smallest)
    }

    /// Ranks 1...n of `values` with ties given their average rank, and the size of every tie group.
    static func averageRanks(_ values: [Double]) -> (ranks: [Double], tieSizes: [Int]) {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var sizes: [Int] = []
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && values[order[j + 1]] == values[order[i]] { j += 1 }
            let rank = Double(i + j + 2) / 2
            for k in i...j { ranks[order[k]] = rank }
            sizes.append(j - i + 1)
            i = j + 1
        }
        return (ranks, sizes)
    }

    /// How many of the C(n1 + n2, n1) arrangements give each U = 0...n1*n2 (no ties), by the
    /// recurrence f(n1, n2, u) = f(n1 - 1, n2, u - n2) + f(n1, n2 - 1, u).
    static func uCounts(_ n1: Int, _ n2: Int) -> [Double] {
        // table[j][u] for the current i: arrangements of i values of the first sample among j of the second.
        var table = (0...n2).map { _ in [1.0] }
        for _ in 0..<n1 {
            var next: [[Double]] = [[1.0]]
            for j in 1...n2 {
                let width = max(next[j - 1].count, table[j].count + j)
                var row = [Double](repeating: 0, count: width)
                for (u, c) in next[j - 1].enumerated() { row[u] += c }
                for (u, c) in table[j].enumerated() { row[u + j] += c }
                next.append(row)
            }
            table = next
        }
        return table[n2]
    }

    /// C(n, k) as a double.
    static func binomial(_ n: Int, _ k: Int) -> Double {
        var out = 1.0
        for i in 0..<min(k, n - k) { out = out * Double(n - i) / Double(i + 1) }
        return out
    }

    /// The standard normal distribution's upper tail at `z`.
    static func normalSurvival(_ z: Double) -> Double { erfc(z / 2.0.squareRoot()) / 2 }

    /// The smallest change in the mean (in the metric's unit) that Welch's test at `alpha`
    /// (two-sided) would find with probability `power` between samples of these sizes and spreads:
    /// (t(1 - alpha/2) + t(power)) x sqrt(sa^2/na + sb^2/nb), at the Welch-Satterthwaite degrees of
    /// freedom; `nil` below two values on a side.
    static func minimumDetectableChange(_ a: Summary, _ b: Summary, alpha: Double, power: Double = 0.8) -> Double? {
        guard a.n > 1, b.n > 1 else { return nil }
        let va = a.standardDeviation * a.standardDeviation / Double(a.n)
        let vb = b.standardDeviation * b.standardDeviation / Double(b.n)
        guard va + vb > 0 else { return 0 }
        let parts: Double = va * va / Double(a.n - 1) + vb * vb / Double(b.n - 1)
        let df = (va + vb) * (va + vb) / parts
        let z = tQuantile(1 - alpha / 2, degreesOfFreedom: df) + tQuantile(power, degreesOfFreedom: df)
        return z * (va + vb).squareRoot()
    }
}
