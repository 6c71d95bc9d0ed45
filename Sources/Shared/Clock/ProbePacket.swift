import Crypto
import Foundation

/// A clock probe on the dedicated UDP path, and its reply: fixed-size binary, authenticated with an
/// HMAC-SHA256 (truncated to 16 bytes) under the session's probe key, so that nobody on the network
/// can move a step's start. A probe carries the coordinator's send time `t0`; the reply echoes it
/// with the agent's receive and send times `t1`, `t2` (all CLOCK_MONOTONIC of their host).
package struct ProbePacket: Equatable, Sendable {
    package enum Kind: UInt8, Sendable {
        case probe = 1
        case reply = 2
    }

    package var kind: Kind
    /// Increases with every probe of a session; a reply echoes its probe's.
    package var sequence: UInt64
    package var t0: Int64
    package var t1: Int64
    package var t2: Int64

    package init(kind: Kind, sequence: UInt64, t0: Int64, t1: Int64 = 0, t2: Int64 = 0) {
        self.kind = kind
        self.sequence = sequence
        self.t0 = t0
        self.t1 = t1
        self.t2 = t2
    }

    /// Magic, kind, sequence, three times, MAC.
    package static let size = 4 + 1 + 8 + 24 + macSize
    static let macSize = 16
    static let magic: [UInt8] = Array("LSP1".utf8)

    /// The packet's bytes, MAC included.
    package func encoded(key: ProbeKey) -> [UInt8] {
        var out = Self.magic
        out.append(kind.rawValue)
        for v in [sequence, UInt64(bitPattern: t0), UInt64(bitPattern: t1), UInt64(bitPattern: t2)] {
            withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) }
        }
        out += Self.mac(out, key: key)
        return out
    }

    /// Decodes and checks the MAC; `nil` for anything malformed or forged.
    package init?(bytes: some Collection<UInt8>, key: ProbeKey) {
        let b = Array(bytes)
        guard b.count == Self.size, Array(b[0..<4]) == Self.magic, let kind = Kind(rawValue: b[4]) else { return nil }
        let body = Array(b[0..<(Self.size - Self.macSize)])
        guard HandshakeProof.verify(Data(b[(Self.size - Self.macSize)...]), equals: Data(Self.mac(body, key: key)))
        else { return nil }
        func word(_ at: Int) -> UInt64 { b[at..<(at + 8)].reduce(0) { $0 << 8 | UInt64($1) } }
        self.init(
            kind: kind, sequence: word(5), t0: Int64(bitPattern: word(13)), t1: Int64(bitPattern: word(21)),
            t2: Int64(bitPattern: word(29)))
    }

    private static func mac(_ body: [UInt8], key: ProbeKey) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: body, using: key.symmetric).prefix(macSize))
    }
}

/// The session's clock-probe key (Sendable, unlike Crypto's SymmetricKey).
package struct ProbeKey: Equatable, Sendable {
    package let bytes: [UInt8]
    package init(bytes: [UInt8]) { self.bytes = bytes }
    /// A fresh random key (tests).
    package static func random() -> ProbeKey { ProbeKey(bytes: randomBytes(32)) }
    var symmetric: SymmetricKey { SymmetricKey(data: bytes) }
}

extension HandshakeProof {
    /// The session's key for clock probes: an HMAC of the token over both handshake nonces with a
    /// label of its own, so it is fresh per session and never equal to a proof.
    package static func probeKey(token: Token, agentNonce: Data, coordinatorNonce: Data) -> ProbeKey {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: token.bytes))
        hmac.update(data: Array("lockstep/1 clock probes".utf8))
        hmac.update(data: agentNonce)
        hmac.update(data: coordinatorNonce)
        return ProbeKey(bytes: Array(hmac.finalize()))
    }
}
