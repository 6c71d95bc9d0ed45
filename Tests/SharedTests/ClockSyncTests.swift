import Testing

@testable import Shared

@Suite struct ClockSyncTests {
    /// Simulates exchanges against an agent whose clock is `offset` ahead, with given one-way delays.
    func exchange(at t0: Int64, offset: Int64, outbound: Int64, inbound: Int64, hold: Int64 = 1_000) -> ClockExchange {
        let t1 = t0 + outbound + offset
        let t2 = t1 + hold
        let t3 = t2 - offset + inbound
        return ClockExchange(t0: t0, t1: t1, t2: t2, t3: t3)
    }

    @Test func symmetricDelayRecoversTheOffsetExactly() {
        let e = exchange(at: 0, offset: 1_000_000_000_000, outbound: 20_000, inbound: 20_000)
        #expect(e.offsetNs == 1_000_000_000_000)
        #expect(e.roundTripNs == 40_000)
    }

    @Test func minimumRoundTripWinsAndTheTruthIsWithinTheBound() {
        let offset: Int64 = -123_456_789
        let exchanges = [
            exchange(at: 0, offset: offset, outbound: 500_000, inbound: 10_000),
            exchange(at: 1_000_000, offset: offset, outbound: 15_000, inbound: 40_000),
            exchange(at: 2_000_000, offset: offset, outbound: 10_000, inbound: 900_000),
        ]
        let estimate = try! #require(ClockEstimate(exchanges: exchanges))
        #expect(estimate.roundTripNs == 55_000)
        #expect(abs(estimate.offsetNs - offset) <= estimate.errorNs)
        #expect(estimate.errorNs == 27_500)
    }

    @Test func noExchangesNoEstimate() {
        #expect(ClockEstimate(exchanges: []) == nil)
    }

    @Test func trackInterpolatesAndReportsDrift() {
        let before = ClockEstimate(offsetNs: 1_000, errorNs: 10, roundTripNs: 20, atNs: 0, probes: 1)
        let after = ClockEstimate(offsetNs: 2_000, errorNs: 30, roundTripNs: 60, atNs: 1_000_000_000, probes: 1)
        let track = ClockTrack(before: before, after: after)
        #expect(track.driftPPM == 1.0)
        #expect(track.offset(atCoordinator: 500_000_000) == 1_500)
        #expect(track.offset(atCoordinator: -5) == 1_000)
        #expect(track.offset(atCoordinator: 9_000_000_000) == 2_000)
        #expect(track.errorNs == 30)
        #expect(track.toCoordinator(500_001_500) == 500_000_000)
    }

    @Test func estimateTranslatesBothWays() {
        let estimate = ClockEstimate(offsetNs: 1_000_000_000_000, errorNs: 5, roundTripNs: 10, atNs: 0, probes: 1)
        #expect(estimate.toAgent(7) == 1_000_000_000_007)
        #expect(estimate.toCoordinator(estimate.toAgent(7)) == 7)
    }

    /// A deterministic jitter source for the synthetic exchanges below.
    func jitter(_ generator: inout SplitMix64, upTo ns: Int64) -> Int64 { Int64(generator.next() % UInt64(ns + 1)) }

    @Test func asymmetricPathsBiasTheEstimateButNeverPastTheBound() {
        // Outbound always 2 us, inbound 30 us: the midpoint is off by 14 us, and the bound (16 us) holds it.
        let offset: Int64 = 5_000_000
        let exchanges = (0..<64).map { i in
            exchange(at: Int64(i) * 1_000_000, offset: offset, outbound: 2_000, inbound: 30_000)
        }
        let estimate = try! #require(ClockEstimate(exchanges: exchanges))
        #expect(estimate.offsetNs - offset == -14_000)
        #expect(estimate.errorNs == 16_000)
        #expect(abs(estimate.offsetNs - offset) <= estimate.errorNs)
    }

    @Test func outliersOfEitherDirectionDoNotMoveTheMinimumRoundTripEstimate() {
        var g = SplitMix64(seed: 7)
        let offset: Int64 = -42_000_000_000
        var exchanges: [ClockExchange] = []
        for i in 0..<128 {
            // Most exchanges queue for up to 2 ms on one side or the other; a few do not.
            let quiet = i % 16 == 5
            let outbound = 3_000 + (quiet ? jitter(&g, upTo: 200) : jitter(&g, upTo: 2_000_000))
            let inbound = 3_000 + (quiet ? jitter(&g, upTo: 200) : jitter(&g, upTo: 2_000_000))
            exchanges.append(exchange(at: Int64(i) * 2_000_000, offset: offset, outbound: outbound, inbound: inbound))
        }
        let estimate = try! #require(ClockEstimate(exchanges: exchanges))
        #expect(abs(estimate.offsetNs - offset) <= estimate.errorNs)
        #expect(estimate.errorNs <= 3_300, "a queued exchange was chosen: ±\(estimate.errorNs) ns")
        // The points kept for the fit are the quiet ones plus the next best: a quarter, at least 8.
        #expect(estimate.points.count == 32)
        #expect(estimate.points.map(\.roundTripNs) == estimate.points.map(\.roundTripNs).sorted())
    }

    @Test func theDriftFitRecoversARateOverConsecutiveSyncs() {
        // The agent's clock runs 37 ppm fast; two syncs 10 s apart, each 64 probes with jitter and
        // a few queued outliers; the fit over both syncs' best points recovers the rate.
        var g = SplitMix64(seed: 11)
        let ppm = 37.0
        func sync(at start: Int64) -> ClockEstimate {
            var exchanges: [ClockExchange] = []
            for i in 0..<64 {
                let t0 = start + Int64(i) * 2_000_000
                let offset = 1_000_000 + Int64((Double(t0) * ppm / 1e6).rounded())
                let queued: Int64 = i % 9 == 0 ? 400_000 : 0
                exchanges.append(
                    exchange(
                        at: t0, offset: offset, outbound: 2_000 + jitter(&g, upTo: 1_000) + queued,
                        inbound: 2_000 + jitter(&g, upTo: 1_000)))
            }
            return ClockEstimate(exchanges: exchanges)!
        }
        let track = ClockTrack(before: sync(at: 0)).extended(to: sync(at: 10_000_000_000))
        let fit = try! #require(track.driftFit)
        #expect(fit.points == 32)
        #expect(abs(fit.ppm - ppm) < 0.1, "fitted \(fit.ppm) ppm")
        #expect(fit.standardErrorPPM > 0 && fit.standardErrorPPM < 0.1)
        #expect(track.driftPPM == fit.ppm)
        // A third sync extends the same fit.
        let longer = track.extended(to: sync(at: 20_000_000_000))
        #expect(longer.driftFit!.points == 48)
        #expect(abs(longer.driftFit!.ppm - ppm) < 0.1)
    }

    @Test func withoutASecondSyncThereIsNoFitAndTwoEstimatesGiveTheirSlope() {
        let one = ClockEstimate(exchanges: [exchange(at: 0, offset: 5, outbound: 10, inbound: 10)])!
        #expect(ClockTrack(before: one).driftFit == nil)
        #expect(ClockTrack(before: one).driftPPM == nil)
        #expect(DriftFit([ClockPoint(atNs: 0, offsetNs: 0, roundTripNs: 10)]) == nil)
        let same = (0..<4).map { _ in ClockPoint(atNs: 5, offsetNs: 1, roundTripNs: 10) }
        #expect(DriftFit(same) == nil, "all points at one instant have no slope")
    }
}
