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
