import Foundation
import Shared
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The agent's event log: every record is kept in memory for the coordinator to fetch, and
/// appended to `<log-dir>/<name>.jsonl` when a log folder is set. Control plane only.
final class EventLog: Sendable {
    let host: String
    private let records = Mutex<[LogRecord]>([])
    private let file: Int32?
    /// Sees every record as it is made (the agent's `/metrics` counts from here).
    private let observer: (@Sendable (LogRecord) -> Void)?

    init(host: String, directory: String?, observer: (@Sendable (LogRecord) -> Void)? = nil) {
        self.host = host
        self.observer = observer
        if let directory {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let fd = open("\(directory)/\(host).jsonl", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            file = fd >= 0 ? fd : nil
        } else {
            file = nil
        }
    }

    deinit { if let file { close(file) } }

    /// Records one event at the current monotonic time.
    func record(
        _ event: String, level: String = "info", run: String? = nil, step: String? = nil,
        _ fields: [String: String] = [:], at tNs: Int64 = MonotonicClock.now()
    ) {
        let record = LogRecord(
            tNs: tNs, host: host, level: level, event: event, runID: run, stepID: step, fields: fields)
        records.withLock { $0.append(record) }
        observer?(record)
        if let file, var line = try? JSONEncoder().encode(record) {
            line.append(0x0A)
            _ = line.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
        }
    }

    /// Records from index `from` on, at most `limit`; and whether that reaches the end.
    func records(from: Int, limit: Int = 2000) -> (records: [LogRecord], next: Int, complete: Bool) {
        records.withLock { all in
            let start = min(max(from, 0), all.count)
            let end = min(start + limit, all.count)
            return (Array(all[start..<end]), end, end == all.count)
        }
    }
}
