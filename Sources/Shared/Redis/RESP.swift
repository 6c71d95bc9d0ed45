/// A RESP2 value (the Redis serialization protocol).
package enum RESPValue: Equatable, Sendable {
    /// `+OK`
    case simple(String)
    /// `-ERR message`
    case error(String)
    /// `:42`
    case integer(Int64)
    /// `$n` followed by n bytes; `nil` for the null bulk string `$-1`.
    case bulk([UInt8]?)
    /// `*n` followed by n values; `nil` for the null array `*-1`.
    case array([RESPValue]?)

    /// The value as text, for simple strings and bulk strings.
    package var text: String? {
        switch self {
        case .simple(let s): s
        case .bulk(let b?): String(decoding: b, as: UTF8.self)
        default: nil
        }
    }
}

/// Why a RESP stream cannot be parsed. The connection it came from is beyond repair.
package struct RESPError: Error, Equatable, CustomStringConvertible {
    /// What was wrong, with the offending byte or length.
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { "malformed RESP: \(message)" }
}

/// One RESP2 frame found in a buffer, without copying: the kind, where its payload lies, and where
/// the next frame begins. An array's frame is its header only; its elements follow it.
package struct RESPFrame: Equatable, Sendable {
    /// The frame's type.
    package enum Kind: UInt8, Sendable {
        case simple, error, integer, bulk, nullBulk, array, nullArray
    }
    /// The frame's type.
    package var kind: Kind
    /// Payload start: the text of simple strings and errors, the data of bulk strings.
    package var payloadStart: Int
    /// Payload length in bytes.
    package var payloadCount: Int
    /// The integer's value, or the array's element count.
    package var integer: Int64
    /// Index just past the frame.
    package var end: Int

    package init(kind: Kind, payloadStart: Int, payloadCount: Int, integer: Int64, end: Int) {
        self.kind = kind
        self.payloadStart = payloadStart
        self.payloadCount = payloadCount
        self.integer = integer
        self.end = end
    }
}

/// RESP2 encoding and zero-copy scanning.
package enum RESP {
    /// Longest line (type byte to CRLF) accepted before the stream counts as malformed.
    package static let maxLine = 64 * 1024
    /// Largest bulk string accepted (Redis' own limit: 512 MB).
    package static let maxBulk = 512 * 1024 * 1024
    /// Largest array accepted.
    package static let maxArray = 1024 * 1024

    /// A command as RESP: an array of bulk strings.
    package static func command(_ parts: [String]) -> [UInt8] {
        var out: [UInt8] = Array("*\(parts.count)\r\n".utf8)
        for part in parts {
            let bytes = Array(part.utf8)
            out += Array("$\(bytes.count)\r\n".utf8)
            out += bytes
            out += [13, 10]
        }
        return out
    }

    /// Scans one frame at `start`. Returns `nil` when the bytes end before the frame does (read more
    /// and scan again); throws when the bytes cannot be RESP2.
    package static func scan(_ bytes: UnsafeRawBufferPointer, at start: Int) throws(RESPError) -> RESPFrame? {
        guard start < bytes.count else { return nil }
        guard let lineEnd = try findCRLF(bytes, from: start + 1) else { return nil }
        let type = bytes[start]
        let lineStart = start + 1
        switch type {
        case UInt8(ascii: "+"):
            return RESPFrame(
                kind: .simple, payloadStart: lineStart, payloadCount: lineEnd - lineStart, integer: 0, end: lineEnd + 2)
        case UInt8(ascii: "-"):
            return RESPFrame(
                kind: .error, payloadStart: lineStart, payloadCount: lineEnd - lineStart, integer: 0, end: lineEnd + 2)
        case UInt8(ascii: ":"):
            let value = try integer(bytes, lineStart, lineEnd)
            return RESPFrame(kind: .integer, payloadStart: lineStart, payloadCount: 0, integer: value, end: lineEnd + 2)
        case UInt8(ascii: "$"):
            let length = try integer(bytes, lineStart, lineEnd)
            if length == -1 {
                return RESPFrame(
                    kind: .nullBulk, payloadStart: lineEnd + 2, payloadCount: 0, integer: -1, end: lineEnd + 2)
            }
            guard length >= 0, length <= maxBulk else { throw RESPError("bulk length \(length)") }
            let dataStart = lineEnd + 2
            let end = dataStart + Int(length) + 2
            guard end <= bytes.count else { return nil }
            guard bytes[end - 2] == 13, bytes[end - 1] == 10 else { throw RESPError("bulk string without CRLF") }
            return RESPFrame(
                kind: .bulk, payloadStart: dataStart, payloadCount: Int(length), integer: length, end: end)
        case UInt8(ascii: "*"):
            let count = try integer(bytes, lineStart, lineEnd)
            if count == -1 {
                return RESPFrame(
                    kind: .nullArray, payloadStart: lineEnd + 2, payloadCount: 0, integer: -1, end: lineEnd + 2)
            }
            guard count >= 0, count <= maxArray else { throw RESPError("array length \(count)") }
            return RESPFrame(kind: .array, payloadStart: lineEnd + 2, payloadCount: 0, integer: count, end: lineEnd + 2)
        default:
            throw RESPError("type byte 0x\(String(type, radix: 16))")
        }
    }

    /// Index of the CR of the first CRLF at or after `from`; `nil` if none yet.
    private static func findCRLF(_ bytes: UnsafeRawBufferPointer, from: Int) throws(RESPError) -> Int? {
        var i = from
        let limit = min(bytes.count - 1, from + maxLine)
        while i < limit {
            if bytes[i] == 13 {
                guard bytes[i + 1] == 10 else { throw RESPError("CR without LF") }
                return i
            }
            i += 1
        }
        if bytes.count - from > maxLine { throw RESPError("line longer than \(maxLine) bytes") }
        return nil
    }

    /// The decimal integer between `start` and `end`.
    private static func integer(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) throws(RESPError) -> Int64 {
        var i = start
        var negative = false
        if i < end, bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        guard i < end, end - i <= 18 else { throw RESPError("bad integer") }
        var value: Int64 = 0
        while i < end {
            let d = bytes[i] &- UInt8(ascii: "0")
            guard d < 10 else { throw RESPError("bad digit 0x\(String(bytes[i], radix: 16))") }
            value = value * 10 + Int64(d)
            i += 1
        }
        return negative ? -value : value
    }
}

/// Parses RESP2 values from a byte stream that arrives in pieces: append what was read, then take
/// values until `next()` returns `nil`.
package struct RESPParser: Sendable {
    private var buffer: [UInt8] = []
    private var readIndex = 0

    package init() {}

    /// Bytes received but not yet parsed into a value.
    package var buffered: Int { buffer.count - readIndex }

    /// Adds bytes read from the connection.
    package mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if readIndex > 0 && readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete value, or `nil` when more bytes are needed.
    package mutating func next() throws(RESPError) -> RESPValue? {
        let start = readIndex
        let result = buffer.withUnsafeBytes { raw in
            Result { () throws(RESPError) in try Self.value(raw, at: start, depth: 0) }
        }
        guard let (value, end) = try result.get() else { return nil }
        readIndex = end
        if readIndex > 65_536 && readIndex * 2 > buffer.count {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        return value
    }

    private static func value(_ raw: UnsafeRawBufferPointer, at start: Int, depth: Int) throws(RESPError) -> (
        RESPValue, Int
    )? {
        guard depth < 32 else { throw RESPError("arrays nested deeper than 32") }
        guard let frame = try RESP.scan(raw, at: start) else { return nil }
        let payload = { Array(raw[frame.payloadStart..<(frame.payloadStart + frame.payloadCount)]) }
        switch frame.kind {
        case .simple: return (.simple(String(decoding: payload(), as: UTF8.self)), frame.end)
        case .error: return (.error(String(decoding: payload(), as: UTF8.self)), frame.end)
        case .integer: return (.integer(frame.integer), frame.end)
        case .bulk: return (.bulk(payload()), frame.end)
        case .nullBulk: return (.bulk(nil), frame.end)
        case .nullArray: return (.array(nil), frame.end)
        case .array:
            var items: [RESPValue] = []
            var at = frame.end
            for _ in 0..<frame.integer {
                guard let (item, end) = try value(raw, at: at, depth: depth + 1) else { return nil }
                items.append(item)
                at = end
            }
            return (.array(items), at)
        }
    }
}
