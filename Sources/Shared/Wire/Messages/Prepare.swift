/// Prepare one step: the agent starts its side of the workload and answers ``Ready``.
package struct Prepare: Codable, Equatable, Sendable {
    /// The step to prepare.
    package var step: StepSpec
    package init(step: StepSpec) { self.step = step }
}

/// The agent is ready; `endpoint` is the data-plane address a server side listens on.
package struct Ready: Codable, Equatable, Sendable {
    /// The step this answers or addresses.
    package var stepID: String
    /// The server side's data-plane endpoint, if any.
    package var endpoint: Endpoint?
    package init(stepID: String, endpoint: Endpoint? = nil) {
        self.stepID = stepID
        self.endpoint = endpoint
    }
}

/// Start the prepared step when the agent's clock reads `atNs`.
package struct Start: Codable, Equatable, Sendable {
    /// The step this answers or addresses.
    package var stepID: String
    /// Start instant on the agent's clock.
    package var atNs: Int64
    package init(stepID: String, atNs: Int64) {
        self.stepID = stepID
        self.atNs = atNs
    }
}

/// The agent started at `actualNs` on its clock (`atNs` plus its wake-up lateness).
package struct Started: Codable, Equatable, Sendable {
    /// The step this answers or addresses.
    package var stepID: String
    /// When the agent really started, on its clock.
    package var actualNs: Int64
    package init(stepID: String, actualNs: Int64) {
        self.stepID = stepID
        self.actualNs = actualNs
    }
}

/// Stop the current step and report its result.
package struct Stop: Codable, Equatable, Sendable {
    /// The step this answers or addresses.
    package var stepID: String
    package init(stepID: String) { self.stepID = stepID }
}

/// Abort everything: stop load and every server started.
package struct Abort: Codable, Equatable, Sendable {
    /// Why, for the agent's log.
    package var reason: String
    package init(reason: String) { self.reason = reason }
}

/// Ask for event log records with index at or after `from`.
package struct FetchLog: Codable, Equatable, Sendable {
    /// Index of the first record wanted.
    package var from: Int
    package init(from: Int) { self.from = from }
}

/// A batch of log records; `next` is the index to ask for next, `complete` says no more follow.
package struct LogBatch: Codable, Equatable, Sendable {
    /// The records.
    package var records: [LogRecord]
    /// Index to ask for next.
    package var next: Int
    /// Whether no more records follow.
    package var complete: Bool
    package init(records: [LogRecord], next: Int, complete: Bool) {
        self.records = records
        self.next = next
        self.complete = complete
    }
}
