import Foundation

/// A linear map from data values to pixels, with "nice" tick values (1, 2 or 5 times a power of ten).
struct LinearScale: Equatable, Sendable {
    var domain: (low: Double, high: Double)
    var range: (low: Double, high: Double)

    static func == (a: LinearScale, b: LinearScale) -> Bool {
        a.domain == b.domain && a.range == b.range
    }

    init(domain: (Double, Double), range: (Double, Double)) {
        self.domain = domain.0 == domain.1 ? (domain.0, domain.0 + 1) : domain
        self.range = range
    }

    /// The pixel position of `value`.
    func callAsFunction(_ value: Double) -> Double {
        range.low + (value - domain.low) / (domain.high - domain.low) * (range.high - range.low)
    }

    /// Tick values inside the domain, about `count` of them, at a nice step.
    func ticks(_ count: Int = 5) -> [Double] {
        let step = Self.niceStep((domain.high - domain.low) / Double(max(count, 1)))
        guard step > 0, step.isFinite else { return [domain.low] }
        var v = (domain.low / step).rounded(.up) * step
        var out: [Double] = []
        while v <= domain.high + step * 1e-9 {
            out.append(abs(v) < step * 1e-9 ? 0 : v)
            v += step
        }
        return out
    }

    /// 1, 2 or 5 times the power of ten at or above `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 0 }
        let power = pow(10, floor(log10(raw)))
        for factor in [1.0, 2, 5, 10] where factor * power >= raw * (1 - 1e-12) { return factor * power }
        return 10 * power
    }

    /// A domain from 0 (or the data's low, if negative) to a nice value above `high`.
    static func fromZero(to high: Double, ticks: Int = 5) -> (Double, Double) {
        guard high > 0, high.isFinite else { return (0, 1) }
        let step = niceStep(high / Double(ticks))
        return (0, (high / step).rounded(.up) * step)
    }
}

/// A logarithmic map from positive data values to pixels, with ticks at 1, 2 and 5 times the powers
/// of ten inside the domain (only the powers of ten when those would be more than `maxTicks`). A
/// latency distribution's median and its tail differ by orders of magnitude: on a linear axis the
/// median disappears under the tail.
struct LogScale: Sendable {
    var domain: (low: Double, high: Double)
    var range: (low: Double, high: Double)

    /// A domain from the power of ten at or below the lowest value to the one at or above the highest.
    init(values: [Double], range: (Double, Double)) {
        let positive = values.filter { $0 > 0 && $0.isFinite }
        let low = pow(10, floor(log10(positive.min() ?? 1)))
        var high = pow(10, ceil(log10(positive.max() ?? 10)))
        if high <= low { high = low * 10 }
        domain = (low, high)
        self.range = range
    }

    /// The pixel position of `value` (values at or below 0 sit at the bottom).
    func callAsFunction(_ value: Double) -> Double {
        let v = max(value, domain.low)
        return range.low + (log10(v) - log10(domain.low)) / (log10(domain.high) - log10(domain.low))
            * (range.high - range.low)
    }

    /// 1, 2, 5 x 10^k inside the domain; only 10^k when there would be more than `maxTicks`.
    func ticks(maxTicks: Int = 10) -> [Double] {
        let first = Int(floor(log10(domain.low)))
        let last = Int(ceil(log10(domain.high)))
        let (low, high) = (domain.low * (1 - 1e-9), domain.high * (1 + 1e-9))
        var all: [Double] = []
        for k in first...last {
            let power = pow(10, Double(k))
            for factor in [1.0, 2, 5] where factor * power >= low && factor * power <= high {
                all.append(factor * power)
            }
        }
        return all.count <= maxTicks ? all : (first...last).map { pow(10, Double($0)) }
    }
}

/// The HdrHistogram plotter's axis: percentiles spread as log10(1 / (1 - p)), so 90%, 99%, 99.9%
/// and 99.99% are equally apart.
enum PercentileAxis {
    /// The axis position of percentile `p` (0...100, exclusive of 100).
    static func position(_ p: Double) -> Double { log10(1 / max(1 - p / 100, 1e-7)) }

    /// The labelled ticks up to `highest` (percent).
    static func ticks(upTo highest: Double) -> [(position: Double, label: String)] {
        [(0.0, "0%"), (90, "90%"), (99, "99%"), (99.9, "99.9%"), (99.99, "99.99%"), (99.999, "99.999%")]
            .filter { $0.0 <= highest + 1e-9 }.map { (position($0.0), $0.1) }
    }
}

/// Tick labels: short and exact enough for an axis.
func tickLabel(_ v: Double) -> String {
    let a = abs(v)
    if a >= 1_000_000 { return svgNumber(v / 1_000_000) + "M" }
    if a >= 10_000 { return svgNumber(v / 1000) + "k" }
    if a >= 100 || v == v.rounded() { return String(format: "%.0f", v) }
    if a >= 1 { return svgNumber(v) }
    return String(format: "%g", v)
}
