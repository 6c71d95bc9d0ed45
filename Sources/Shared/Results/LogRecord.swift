/// One event of the coordinator's or an agent's log. `tNs` is the writer's monotonic clock;
/// the coordinator moves agent records onto its own timeline when it merges.
package struct LogRecord: Codable, Equatable, Sendable {
    /// When it happened, on the writer's monotonic clock (ns).
    package var tNs: Int64
    /// Who wrote it: `coordinator` or the agent's name.
    package var host: String
    /// `debug`, `info`, `warning` or `error`.
    package var level: String
    /// Dotted event name, e.g. `step.started`.
    package var event: String
    /// The run it belongs to, if any.
    package var runID: String?
    /// The step it belongs to, if any.
    package var stepID: String?
    /// Structured details.
    package var fields: [String: String]

    package init(
        tNs: Int64, host: String, level: String = "info", event: String, runID: String? = nil,
        stepID: String? = nil, fields: [String: String] = [:]
    ) {
        self.tNs = tNs
        self.host = host
        self.level = level
        self.event = event
        self.runID = runID
        self.stepID = stepID
        self.fields = fields
    }
}
