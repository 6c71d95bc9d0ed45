import Foundation

/// Change points in a series of runs' values, found as Apache Otava finds them (Fleming et al.,
/// "Hunter: Using Change Point Detection to Hunt for Performance Regressions", ICPE 2023; Matteson and
/// James's E-divisive means): in sliding windows, the split that maximizes the energy statistic
/// Q-hat, kept when a two-sided Student's t test of the values on both sides gives a p-value below a
/// relaxed threshold (10x); then, merging bottom-up, the weakest point is dropped until every point
/// left has a p-value below `maxPValue` and a change above `minMagnitude`. The same windows, ties
/// and statistics as Otava 0.8, so both give the same points on the same series (checked in a test).
enum ChangePoints {
    /// What to look for.
    struct Options: Equatable, Sendable {
        /// Points per sliding window (Otava's `--window`).
        var window = 50
        /// Largest p-value a change point may have (Otava's `--pvalue`).
        var maxPValue = 0.001
        /// Smallest relative change a point with a significant p-value may have (Otava's `--magnitude`), 0...1.
        var minMagnitude = 0.0
    }

    /// A change point: the index of the first value after the change and both sides' statistics.
    struct Point: Equatable, Sendable {
        /// Index of the first value of the new segment.
        var index: Int
        var meanBefore: Double
        var meanAfter: Double
        /// Population standard deviations (as Otava passes them to the t test).
        var stddevBefore: Double
        var stddevAfter: Double
        var countBefore: Int
        var countAfter: Int
        var pValue: Double

        /// (after - before) / before, percent; 0 when the mean before is 0.
        var changePercent: Double { meanBefore == 0 ? 0 : (meanAfter / meanBefore - 1) * 100 }

        /// The larger of the forward and backward relative changes (Otava's magnitude).
        var magnitude: Double {
            let forward = meanBefore == 0 ? 0 : meanAfter / meanBefore - 1
            let backward = meanAfter == 0 ? 0 : meanBefore / meanAfter - 1
            return max(abs(forward), abs(backward))
        }
    }

    /// The change points of `series`, by index.
    static func find(_ series: [Double], options: Options = Options()) -> [Point] {
        guard series.count > 2 else { return [] }
        let p = options.maxPValue
        let firstPass = p < 0.05 ? p * 10 : (p < 0.5 ? p * 2 : p)
        return merge(split(series, window: max(options.window, 2), maxPValue: firstPass), series, options)
    }

    // MARK: - Split: E-divisive in sliding windows

    /// The weak change points: the union of each window's significant points at `maxPValue`.
    static func split(_ series: [Double], window: Int, maxPValue: Double) -> [Int] {
        let step = window / 2
        var start = 0
        var points: [Int] = []
        while start < series.count {
            let end = min(start + window, series.count)
            let found = divisive(Array(series[start..<end]), maxPValue: maxPValue).map { $0 + start }
            start = max(found.last ?? 0, start + step)
            for index in found where !points.contains(index) { points.append(index) }
        }
        return points.sorted()
    }

    /// E-divisive within one window: the best split of the segment with the largest Q-hat, while
    /// it is significant.
    static func divisive(_ values: [Double], maxPValue: Double) -> [Int] {
        var points: [Int] = []
        while true {
            let bounds = segments(points, count: values.count)
            var best: (index: Int, q: Double)?
            for (lower, upper) in bounds where upper - lower > 1 {
                let candidate = bestSplit(values, lower, upper)
                if best == nil || candidate.q > best!.q { best = candidate }
            }
            guard let best else { break }
            let (left, right) = sides(of: best.index, points: points, count: values.count)
            guard test(Array(values[left]), Array(values[right])).pValue <= maxPValue else { break }
            points.append(best.index)
            points.sort()
        }
        return points
    }

    /// The split of `values[lower..<upper]` that maximizes Q-hat over every (tau, kappa), in the
    /// order numpy's argmax scans Otava's matrix (entries below its diagonal count as 0).
    static func bestSplit(_ x: [Double], _ lower: Int, _ upper: Int) -> (index: Int, q: Double) {
        let size = upper - lower - 1
        // q[i][j]: tau = lower + i + 1, kappa = lower + j + 2, for j >= i.
        var q = [[Double]](repeating: [Double](repeating: 0, count: size), count: size)
        var withinLeft = 0.0  // sum |x_a - x_b| over lower <= a < b < tau
        for i in 0..<size {
            let tau = lower + i + 1
            if i > 0 {
                for a in lower..<(tau - 1) { withinLeft += abs(x[a] - x[tau - 1]) }
            }
            var cross = 0.0
            var withinRight = 0.0
            for j in i..<size {
                let kappa = lower + j + 2
                let newest = kappa - 1
                for a in lower..<tau { cross += abs(x[a] - x[newest]) }
                for b in tau..<newest { withinRight += abs(x[b] - x[newest]) }
                let n = Double(tau - lower)
                let m = Double(kappa - tau)
                var value = 2 / (m + n) * cross
                if n > 1 { value -= 2 * m / (m + n) / (n - 1) * withinLeft }
                if m > 1 { value -= 2 * n / (m + n) / (m - 1) * withinRight }
                q[i][j] = value
            }
        }
        var best = (index: lower + 1, q: q[0][0])
        for i in 0..<size {
            for j in 0..<size where q[i][j] > best.q { best = (lower + i + 1, q[i][j]) }
        }
        return best
    }

    // MARK: - Merge: drop the weakest until all are significant and large enough

    /// Otava's merge: after a point is dropped, the two points from its place on (the one after it
    /// and the next) are recomputed, not the one before it, whose statistics stay those of the
    /// wider segmentation until a later removal reaches it. Kept as Otava 0.8 has it, so both keep
    /// the same points; the points returned carry statistics recomputed between their final neighbours.
    static func merge(_ weak: [Int], _ series: [Double], _ options: Options) -> [Point] {
        var points = stats(weak, series)
        while !points.isEmpty {
            var weakest = points.indices.max { points[$0].pValue < points[$1].pValue }!
            if points[weakest].pValue < options.maxPValue {
                weakest = points.indices.min { points[$0].magnitude < points[$1].magnitude }!
                if points[weakest].magnitude > options.minMagnitude { break }
            }
            points.remove(at: weakest)
            let indices = points.map(\.index)
            for k in [weakest, weakest + 1] where k < points.count {
                let (left, right) = sides(of: indices[k], points: indices, count: series.count)
                var point = test(Array(series[left]), Array(series[right]))
                point.index = indices[k]
                points[k] = point
            }
        }
        return stats(points.map(\.index), series)
    }

    /// Each point's statistics between its neighbours.
    static func stats(_ indices: [Int], _ series: [Double]) -> [Point] {
        indices.map { index in
            let (left, right) = sides(of: index, points: indices, count: series.count)
            var point = test(Array(series[left]), Array(series[right]))
            point.index = index
            return point
        }
    }

    // MARK: - Segments and the test

    /// The segments `[lower, upper)` that `points` cut `0..<count` into.
    static func segments(_ points: [Int], count: Int) -> [(Int, Int)] {
        let cuts = [0] + points + [count]
        return zip(cuts, cuts.dropFirst()).filter { $0 != $1 }
    }

    /// The segment before and after `index`: from the previous point (or 0) to the next one (or the end).
    static func sides(of index: Int, points: [Int], count: Int) -> (Range<Int>, Range<Int>) {
        let previous = points.last { $0 < index } ?? 0
        let next = points.first { $0 > index } ?? count
        return (previous..<index, index..<next)
    }

    /// Student's two-sample t test (pooled variance, two-sided) from population standard
    /// deviations, as scipy's `ttest_ind_from_stats` is called by Otava; p = 1 for two values in all.
    static func test(_ left: [Double], _ right: [Double]) -> Point {
        func moments(_ v: [Double]) -> (mean: Double, sd: Double) {
            let mean = v.reduce(0, +) / Double(v.count)
            guard v.count > 1 else { return (mean, 0) }
            return (mean, (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)).squareRoot())
        }
        let (m1, s1) = moments(left)
        let (m2, s2) = moments(right)
        let n1 = Double(left.count)
        let n2 = Double(right.count)
        var p = 1.0
        if left.count + right.count > 2 {
            let df = n1 + n2 - 2
            let pooled = ((n1 - 1) * s1 * s1 + (n2 - 1) * s2 * s2) / df
            let se = (pooled * (1 / n1 + 1 / n2)).squareRoot()
            if se > 0 {
                let t = (m1 - m2) / se
                p = Statistics.tTwoSidedP(t, degreesOfFreedom: df)
            } else {
                p = m1 == m2 ? 1 : 0
            }
        }
        return Point(
            index: 0, meanBefore: m1, meanAfter: m2, stddevBefore: s1, stddevAfter: s2, countBefore: left.count,
            countAfter: right.count, pValue: p)
    }
}
