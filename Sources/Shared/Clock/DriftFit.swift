/// One usable exchange of a sync, reduced to what a drift fit needs: when (coordinator clock,
/// middle of the exchange), the offset it measured, and its round trip (its error bound is half).
package struct ClockPoint: Codable, Equatable, Sendable {
    /// The exchange's middle on the coordinator's clock.
    package var atNs: Int64
    /// Agent clock minus coordinator clock, as this exchange measured it.
    package var offsetNs: Int64
    /// The exchange's round trip (its error bound is half of it).
    package var roundTripNs: Int64

    package init(atNs: Int64, offsetNs: Int64, roundTripNs: Int64) {
        self.atNs = atNs
        self.offsetNs = offsetNs
        self.roundTripNs = roundTripNs
    }

    package init(_ exchange: ClockExchange) {
        self.init(
            atNs: exchange.t0 + (exchange.t3 - exchange.t0) / 2, offsetNs: exchange.offsetNs,
            roundTripNs: max(exchange.roundTripNs, 0))
    }

    /// The exchanges of one sync worth keeping for a fit: the quarter with the smallest round trips
    /// (at least `minimum`), whose offsets are the least disturbed by queueing on either path.
    package static func best(of exchanges: [ClockExchange], minimum: Int = 8) -> [ClockPoint] {
        let sorted = exchanges.sorted { $0.roundTripNs < $1.roundTripNs }
        return sorted.prefix(max(minimum, sorted.count / 4)).map(ClockPoint.init)
    }
}

/// How fast an agent's clock runs against the coordinator's: a weighted least-squares line through
/// the best exchanges of consecutive syncs (offset against time), each weighted by the inverse
/// square of its error bound, so the tight exchanges decide and queueing outliers barely count.
package struct DriftFit: Equatable, Sendable {
    /// Offset change per second of coordinator time, in parts per million.
    package var ppm: Double
    /// The slope's standard error, ppm (from the weighted residuals).
    package var standardErrorPPM: Double
    /// The offset the line gives at its weighted mean time.
    package var offsetNs: Double
    /// That weighted mean time, on the coordinator's clock.
    package var atNs: Double
    /// Points fitted.
    package var points: Int

    /// The fit, or `nil` with fewer than three points or all of them at one instant.
    package init?(_ points: [ClockPoint]) {
        guard points.count >= 3 else { return nil }
        let origin = points[0].atNs
        let xs = points.map { Double($0.atNs - origin) }
        let ys = points.map { Double($0.offsetNs) }
        let ws = points.map { 1 / pow2(max(Double($0.roundTripNs) / 2, 50)) }
        let sw = ws.reduce(0, +)
        let mx = zip(ws, xs).map { $0 * $1 }.reduce(0, +) / sw
        let my = zip(ws, ys).map { $0 * $1 }.reduce(0, +) / sw
        var sxx = 0.0
        var sxy = 0.0
        for i in xs.indices {
            sxx += ws[i] * pow2(xs[i] - mx)
            sxy += ws[i] * (xs[i] - mx) * (ys[i] - my)
        }
        guard sxx > 0 else { return nil }
        let slope = sxy / sxx
        var residual = 0.0
        for i in xs.indices { residual += ws[i] * pow2(ys[i] - my - slope * (xs[i] - mx)) }
        let variance = residual / Double(points.count - 2)
        ppm = slope * 1e6
        standardErrorPPM = (variance / sxx).squareRoot() * 1e6
        offsetNs = my
        atNs = Double(origin) + mx
        self.points = points.count
    }
}

private func pow2(_ x: Double) -> Double { x * x }
