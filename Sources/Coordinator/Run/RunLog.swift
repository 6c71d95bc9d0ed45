import Shared

/// The coordinator's own event log for one invocation, on its monotonic clock.
final class RunLog: Sendable {
    private let records = LockedValue<[LogRecord]>([])
    let runID: String
    /// Sees every record as it is made (`--events`, the live page).
    private let observer: (@Sendable (LogRecord) -> Void)?

    init(runID: String, observer: (@Sendable (LogRecord) -> Void)? = nil) {
        self.runID = runID
        self.observer = observer
    }

    /// Records an event now (or at `tNs`).
    func record(
        _ event: String, level: String = "info", step: String? = nil, _ fields: [String: String] = [:],
        at tNs: Int64 = MonotonicClock.now()
    ) {
        let record = LogRecord(
            tNs: tNs, host: "coordinator", level: level, event: event, runID: runID,
            stepID: step, fields: fields)
        records.withLock { $0.append(record) }
        observer?(record)
    }

    /// Everything recorded so far.
    var all: [LogRecord] { records.value }
}
