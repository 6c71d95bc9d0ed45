import Crypto
import Foundation
import Testing

@testable import Shared

/// The dedicated clock-probe path's packets: authenticated, fixed size, nothing forged accepted.
@Suite struct ProbePacketTests {
    let token = Token(bytes: Array("0123456789abcdef0123456789abcdef".utf8))
    var key: ProbeKey {
        HandshakeProof.probeKey(
            token: token, agentNonce: Data(repeating: 1, count: 32), coordinatorNonce: Data(repeating: 2, count: 32))
    }

    @Test func aProbeAndItsReplyRoundTrip() {
        let probe = ProbePacket(kind: .probe, sequence: 7, t0: -5)
        let bytes = probe.encoded(key: key)
        #expect(bytes.count == ProbePacket.size)
        #expect(ProbePacket(bytes: bytes, key: key) == probe)
        let reply = ProbePacket(kind: .reply, sequence: 7, t0: -5, t1: 1_000_000_000_123, t2: 1_000_000_000_456)
        #expect(ProbePacket(bytes: reply.encoded(key: key), key: key) == reply)
        let interleaved = ProbePacket(
            kind: .reply, sequence: 8, t0: 1, t1: 2, t2: 3, kernelReceive: true, previousSequence: 7, previousT2: 99)
        #expect(ProbePacket(bytes: interleaved.encoded(key: key), key: key) == interleaved)
    }

    @Test func theLastTimeIsReadAfterTheRestIsHashedAndTheBytesAreTheSame() {
        var reply = ProbePacket(kind: .reply, sequence: 3, t0: 10, t1: 20, kernelReceive: true)
        var readAt: Int64 = 0
        let (bytes, t2) = reply.encoded(
            key: key,
            stampingLast: {
                readAt = 12_345
                return readAt
            })
        #expect(t2 == 12_345)
        reply.t2 = 12_345
        #expect(bytes == reply.encoded(key: key))
        #expect(ProbePacket(bytes: bytes, key: key)?.t2 == 12_345)
        // A flags byte other than 0 or 1 is malformed.
        var odd = bytes
        odd[5] = 2
        #expect(ProbePacket(bytes: odd, key: key) == nil)
    }

    @Test func forgedTamperedOrForeignPacketsAreRefused() {
        let bytes = ProbePacket(kind: .probe, sequence: 1, t0: 42).encoded(key: key)
        var tampered = bytes
        tampered[20] ^= 1
        #expect(ProbePacket(bytes: tampered, key: key) == nil)
        let otherSession = HandshakeProof.probeKey(
            token: token, agentNonce: Data(repeating: 3, count: 32), coordinatorNonce: Data(repeating: 2, count: 32))
        #expect(ProbePacket(bytes: bytes, key: otherSession) == nil)
        #expect(ProbePacket(bytes: bytes.dropLast(), key: key) == nil)
        #expect(ProbePacket(bytes: [UInt8](repeating: 0, count: ProbePacket.size), key: key) == nil)
    }

    @Test func theProbeKeyIsNeitherAProofNorTheSameAcrossSessions() {
        let a = Data(repeating: 1, count: 32)
        let c = Data(repeating: 2, count: 32)
        let k = HandshakeProof.probeKey(token: token, agentNonce: a, coordinatorNonce: c)
        #expect(Data(k.bytes) != HandshakeProof.agent(token: token, coordinatorNonce: c, agentNonce: a))
        #expect(Data(k.bytes) != HandshakeProof.coordinator(token: token, agentNonce: a, coordinatorNonce: c))
        #expect(k != HandshakeProof.probeKey(token: token, agentNonce: c, coordinatorNonce: a))
    }
}

/// The estimator on synthetic exchanges: known offset, asymmetric delays, outliers, drift.
@Suite struct ClockEstimatorTests {
    func exchange(_ t0: Int64, offset: Int64, out: Int64, back: Int64) -> ClockExchange {
        let t1 = t0 + out + offset
        return ClockExchange(t0: t0, t1: t1, t2: t1 + 2_000, t3: t1 + 2_000 - offset + back)
    }

    @Test func asymmetricDelaysStayWithinTheBoundAndOutliersDoNotCount() {
        let offset: Int64 = 1_000_000_000_000
        var exchanges: [ClockExchange] = []
        for i in 0..<64 {
            // Mostly 6-9 us each way, a few 2 ms outliers, and one lopsided best exchange (3 us out, 5 back).
            let out: Int64 = i % 17 == 0 ? 2_000_000 : 6_000 + Int64(i % 4) * 1_000
            let back: Int64 = i % 13 == 0 ? 2_000_000 : 7_000 + Int64(i % 3) * 1_000
            exchanges.append(exchange(Int64(i) * 1_000_000, offset: offset, out: out, back: back))
        }
        exchanges.append(exchange(70_000_000, offset: offset, out: 3_000, back: 5_000))
        let estimate = try! #require(ClockEstimate(exchanges: exchanges))
        #expect(estimate.roundTripNs == 8_000)
        #expect(estimate.errorNs == 4_000)
        // The truth: the asymmetry shows as an error of (out - back) / 2, never more than the bound.
        #expect(estimate.offsetNs - offset == -1_000)
        #expect(abs(estimate.offsetNs - offset) <= estimate.errorNs)
    }

    @Test func driftBetweenConsecutiveSyncsIsReportedInPartsPerMillion() {
        // The agent's clock runs 20 ppm fast: 20 us more offset per second.
        let first = try! #require(ClockEstimate(exchanges: [exchange(0, offset: 500, out: 5_000, back: 5_000)]))
        let second = try! #require(
            ClockEstimate(exchanges: [exchange(2_000_000_000, offset: 40_500, out: 5_000, back: 5_000)]))
        let drift = try! #require(ClockTrack(before: first, after: second).driftPPM)
        #expect(abs(drift - 20) < 0.01)
    }
}
