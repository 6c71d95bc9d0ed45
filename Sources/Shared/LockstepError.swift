/// What every error that reaches a user carries, whatever its layer: a stable code and a one-line
/// message. The CLI prints any of them as `lockstep: error: CODE: MESSAGE` and exits 1. Each layer
/// has its own type (``WireError`` for the wire and a run's steps; the coordinator's SSH, file,
/// results and placement errors), so codes can be added per layer.
package protocol LockstepError: Error, CustomStringConvertible, Sendable {
    /// The stable code users and scripts see.
    var codeText: String { get }
    /// Human-readable detail, one line.
    var message: String { get }
}

extension LockstepError {
    /// `CODE: MESSAGE`.
    package var description: String { "\(codeText): \(message)" }

    /// This error as a run's failure (a run records and aborts with a ``WireError``), keeping its code.
    package var asWireError: WireError {
        (self as? WireError) ?? WireError(WireError.Code(rawValue: codeText), message)
    }
}

extension WireError: LockstepError {
    /// The wire code's text.
    package var codeText: String { code.rawValue }
}

extension String {
    /// This text on one line: line breaks and other control characters (CR, LF, NEL, U+2028/9, C0,
    /// DEL) written as escapes (`\n`, `\r`, `\u{85}`), so an error that quotes what a user or a
    /// file wrote stays the one line the CLI promises.
    package var oneLine: String {
        guard unicodeScalars.contains(where: Self.breaksLine) else { return self }
        var out = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where Self.breaksLine(scalar): out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func breaksLine(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x85 || scalar.value == 0x2028
            || scalar.value == 0x2029
    }
}
