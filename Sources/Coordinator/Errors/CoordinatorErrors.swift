import Shared

/// An error of one of the coordinator's layers: a stable code from the layer's own list and a
/// one-line message. Each layer is its own type (``SSHError``, ``FileError``, ``ResultsError``,
/// ``PlacementError``), so a layer's codes can grow without touching the wire's ``WireError``.
struct LayerError<Code: RawRepresentable & Sendable & Equatable>: LockstepError, Equatable
where Code.RawValue == String {
    var code: Code
    var message: String
    var codeText: String { code.rawValue }

    /// `message` is kept to one line (what it quotes from a file or a tool is escaped).
    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message.oneLine
    }
}

/// The codes of an SSH connection, authentication, host-key check, remote command or SFTP transfer.
enum SSHCode: String, Sendable {
    /// The connection, handshake, a channel or SFTP failed.
    case ssh
    /// A host key is unknown or does not match known_hosts.
    case hostKey = "ssh-host-key"
    /// The SSH server refused every key offered.
    case auth = "ssh-auth"
    /// A command run over SSH failed.
    case remoteCommand = "remote-command"
}

/// The codes of a lab or plan file (YAML) that is missing or malformed, or names what cannot run.
enum FileCode: String, Sendable {
    case labFile = "lab-file"
    case planFile = "plan-file"
}

/// The one code of the results directory: it cannot be read, written or resumed.
enum ResultsCode: String, Sendable {
    case results
}

/// The one code of a history database: it cannot be opened, read or written, or is not lockstep's.
enum HistoryCode: String, Sendable {
    case history
}

/// The codes of a deployment mode that cannot be placed.
enum PlacementCode: String, Sendable {
    /// Its prerequisites are missing on the SUT's host.
    case prerequisites = "mode-prerequisites"
    /// The host agent's answer to a placement does not make sense.
    case failed = "mode-failed"
}

/// SSH's errors (deployment, status, logs).
typealias SSHError = LayerError<SSHCode>
/// A lab or plan file's errors; the message carries the file, line and column.
typealias FileError = LayerError<FileCode>
/// The results directory's errors.
typealias ResultsError = LayerError<ResultsCode>
/// A history database's errors.
typealias HistoryError = LayerError<HistoryCode>
/// A placement's errors on the coordinator's side (the host agent's own come over the wire).
typealias PlacementError = LayerError<PlacementCode>

extension LayerError where Code == FileCode {
    /// A plan file's error.
    static func plan(_ message: String) -> FileError { FileError(.planFile, message) }
}

extension LayerError where Code == ResultsCode {
    /// A results directory's error.
    init(_ message: String) { self.init(.results, message) }
}
