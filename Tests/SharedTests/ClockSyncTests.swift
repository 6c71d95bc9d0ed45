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
}
