/// Why bytes from a MySQL server cannot be understood. The connection they came from is beyond repair.
package struct MySQLProtocolError: Error, Equatable, CustomStringConvertible {
    /// What was wrong, with the offending value.
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { "malformed MySQL packet: \(message)" }
}

/// MySQL client/server packet framing: a 3-byte little-endian payload length and a sequence id.
package enum MySQLPacket {
    /// Largest payload one packet carries; a longer payload continues in the next packet.
    package static let maxPayload = 0xFF_FFFF
    /// Largest logical packet (continuations joined) accepted: the server's own max_allowed_packet ceiling.
    package static let maxLogical = 64 * 1024 * 1024

    /// One packet found in a buffer, without copying.
    package struct Frame: Equatable, Sendable {
        /// Sequence id.
        package var sequence: UInt8
        /// Payload start index.
        package var payloadStart: Int
        /// Payload length.
        package var payloadCount: Int
        /// Index just past the packet.
        package var end: Int
    }

    /// Scans one packet at `start`; `nil` when the bytes end before the packet does.
    package static func scan(_ bytes: UnsafeRawBufferPointer, at start: Int) -> Frame? {
        guard bytes.count - start >= 4 else { return nil }
        let length = Int(bytes[start]) | Int(bytes[start + 1]) << 8 | Int(bytes[start + 2]) << 16
        guard bytes.count - start - 4 >= length else { return nil }
        return Frame(sequence: bytes[start + 3], payloadStart: start + 4, payloadCount: length, end: start + 4 + length)
    }

    /// Appends `payload` framed as packet(s) starting at sequence id `sequence`; returns the next id.
    @discardableResult
    package static func append(_ payload: some Collection<UInt8>, sequence: UInt8, to out: inout [UInt8]) -> UInt8 {
        var seq = sequence
        var rest = payload[...]
        repeat {
            let chunk = rest.prefix(maxPayload)
            let n = chunk.count
            out += [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), seq]
            out += chunk
            seq &+= 1
            rest = rest.dropFirst(n)
            if n < maxPayload { break }
        } while true
        return seq
    }

    /// `payload` as packet(s) from sequence id `sequence`.
    package static func framed(_ payload: [UInt8], sequence: UInt8) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 4)
        append(payload, sequence: sequence, to: &out)
        return out
    }
}

/// Reads the protocol's integer and string encodings from one packet's payload, checking every bound.
package struct MySQLReader {
    /// The payload.
    package let bytes: [UInt8]
    /// Next byte to read.
    package var index: Int

    package init(_ bytes: [UInt8], at index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    /// Bytes left.
    package var remaining: Int { bytes.count - index }

    private func need(_ n: Int, _ what: String) throws {
        guard n >= 0, remaining >= n else {
            throw MySQLProtocolError("\(what) needs \(n) byte(s) at offset \(index), \(remaining) left")
        }
    }

    /// A fixed-length little-endian unsigned integer of `width` bytes.
    package mutating func fixed(_ width: Int, _ what: String = "integer") throws -> UInt64 {
        try need(width, what)
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(bytes[index + i]) << (8 * UInt64(i)) }
        index += width
        return v
    }

    /// One byte.
    package mutating func byte(_ what: String = "byte") throws -> UInt8 {
        try need(1, what)
        defer { index += 1 }
        return bytes[index]
    }

    /// A length-encoded integer; `nil` for the NULL marker 0xFB.
    package mutating func lenenc(_ what: String = "length-encoded integer") throws -> UInt64? {
        let first = try byte(what)
        switch first {
        case 0..<0xFB: return UInt64(first)
        case 0xFB: return nil
        case 0xFC: return try fixed(2, what)
        case 0xFD: return try fixed(3, what)
        case 0xFE: return try fixed(8, what)
        default: throw MySQLProtocolError("\(what) starts with 0xFF at offset \(index - 1)")
        }
    }

    /// `n` raw bytes.
    package mutating func take(_ n: Int, _ what: String = "bytes") throws -> ArraySlice<UInt8> {
        try need(n, what)
        defer { index += n }
        return bytes[index..<index + n]
    }

    /// A length-encoded string; `nil` for NULL.
    package mutating func lenencBytes(_ what: String = "string") throws -> ArraySlice<UInt8>? {
        guard let n = try lenenc(what) else { return nil }
        guard n <= UInt64(remaining) else {
            throw MySQLProtocolError(
                "\(what) of \(n) byte(s) at offset \(index) overruns the packet (\(remaining) left)")
        }
        return try take(Int(n), what)
    }

    /// A NUL-terminated string.
    package mutating func nulTerminated(_ what: String = "string") throws -> ArraySlice<UInt8> {
        guard let nul = bytes[index...].firstIndex(of: 0) else {
            throw MySQLProtocolError("\(what) at offset \(index) has no terminating NUL")
        }
        defer { index = nul + 1 }
        return bytes[index..<nul]
    }

    /// The rest of the payload.
    package mutating func rest() -> ArraySlice<UInt8> {
        defer { index = bytes.count }
        return bytes[index...]
    }
}

/// Writes the protocol's integer and string encodings.
package enum MySQLWriter {
    /// Appends `value` as `width` little-endian bytes.
    package static func fixed(_ value: UInt64, _ width: Int, to out: inout [UInt8]) {
        for i in 0..<width { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    /// Appends `value` as a length-encoded integer.
    package static func lenenc(_ value: UInt64, to out: inout [UInt8]) {
        switch value {
        case 0..<0xFB: out.append(UInt8(value))
        case 0xFB...0xFFFF:
            out.append(0xFC)
            fixed(value, 2, to: &out)
        case 0x1_0000...0xFF_FFFF:
            out.append(0xFD)
            fixed(value, 3, to: &out)
        default:
            out.append(0xFE)
            fixed(value, 8, to: &out)
        }
    }

    /// Appends a length-encoded string.
    package static func lenencBytes(_ bytes: some Collection<UInt8>, to out: inout [UInt8]) {
        lenenc(UInt64(bytes.count), to: &out)
        out += bytes
    }
}
