import Crypto
import Foundation

/// A clock probe on the dedicated UDP path, and its reply: fixed-size binary, authenticated with an
/// HMAC-SHA256 (truncated to 16 bytes) under the session's probe key, so that nobody on the network
/// can move a step's start. A probe carries the coordinator's send time `t0`; the reply echoes it
/// with the agent's receive and send times `t1`, `t2` (all CLOCK_MONOTONIC of their host) and says
/// whether `t1` is the kernel's receive timestamp. `t2` is the last field before the MAC, so the
/// agent reads it after everything else of the reply is hashed (``encoded(key:stampingLast:)``).
///
/// Interleaved, as chrony does it: a reply cannot carry the kernel's transmit stamp of itself, so it
/// carries that of the agent's previous reply (`previousSequence`, `previousT2`), which the
/// coordinator puts in place of that exchange's `t2`. Then both directions run kernel stamp to kernel
/// stamp and the path's asymmetry no longer includes the agent's send system call.
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
    /// Whether `t1` is the kernel's receive timestamp (else a clock read after the receive returned).
    package var kernelReceive: Bool
    /// The sequence of the agent's previous reply in this session (0: none) and the kernel's
    /// transmit timestamp of that reply (0: none came).
    package var previousSequence: UInt64
    package var previousT2: Int64

    package init(
        kind: Kind, sequence: UInt64, t0: Int64, t1: Int64 = 0, t2: Int64 = 0, kernelReceive: Bool = false,
        previousSequence: UInt64 = 0, previousT2: Int64 = 0
    ) {
        self.kind = kind
        self.sequence = sequence
        self.t0 = t0
        self.t1 = t1
        self.t2 = t2
        self.kernelReceive = kernelReceive
        self.previousSequence = previousSequence
        self.previousT2 = previousT2
    }

    /// Magic, kind, flags, sequence, t0, t1, previous sequence, previous t2, t2, MAC.
    package static let size = 4 + 1 + 1 + 8 + 8 + 8 + 8 + 8 + 8 + macSize
    static let macSize = 16
    static let magic: [UInt8] = Array("LSP2".utf8)
    /// Where `t2` starts: everything before it can be hashed before `t2` is read.
    static let t2Offset = 46

    /// The packet's bytes, MAC included.
    package func encoded(key: ProbeKey) -> [UInt8] {
        encoded(key: key, stampingLast: { t2 }).bytes
    }

    /// The packet's bytes with `t2` read from `stamp` after everything before it went into the MAC,
    /// so that only the last hash block lies between the reading and the send; and the value read.
    package func encoded(key: ProbeKey, stampingLast stamp: () -> Int64) -> (bytes: [UInt8], t2: Int64) {
        var out = Self.magic
        out.reserveCapacity(Self.size)
        out.append(kind.rawValue)
        out.append(kernelReceive ? 1 : 0)
        for v in [sequence, UInt64(bitPattern: t0), UInt64(bitPattern: t1), previousSequence]
            + [UInt64(bitPattern: previousT2)]
        {
            withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) }
        }
        var hmac = HMAC<SHA256>(key: key.symmetric)
        hmac.update(data: out)
        let t2 = stamp()
        let last = withUnsafeBytes(of: UInt64(bitPattern: t2).bigEndian) { Array($0) }
        out += last
        hmac.update(data: last)
        out += Array(hmac.finalize()).prefix(Self.macSize)
        return (out, t2)
    }

    /// Decodes and checks the MAC; `nil` for anything malformed or forged.
    package init?(bytes: some Collection<UInt8>, key: ProbeKey) {
        let b = Array(bytes)
        guard b.count == Self.size, Array(b[0..<4]) == Self.magic, let kind = Kind(rawValue: b[4]), b[5] <= 1 else {
            return nil
        }
        let body = Array(b[0..<(Self.size - Self.macSize)])
        guard HandshakeProof.verify(Data(b[(Self.size - Self.macSize)...]), equals: Data(Self.mac(body, key: key)))
        else { return nil }
        func word(_ at: Int) -> UInt64 { b[at..<(at + 8)].reduce(0) { $0 << 8 | UInt64($1) } }
        self.init(
            kind: kind, sequence: word(6), t0: Int64(bitPattern: word(14)), t1: Int64(bitPattern: word(22)),
            t2: Int64(bitPattern: word(Self.t2Offset)), kernelReceive: b[5] == 1, previousSequence: word(30),
            previousT2: Int64(bitPattern: word(38)))
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
