/// One event of the coordinator's or an agent's log. `tNs` is the writer's monotonic clock;
/// the coordinator moves agent records onto its own timeline when it merges.
package struct LogRecord: Codable, Equatable, Sendable {
    package var tNs: Int64
    package var host: String
    package var level: String
    package var event: String
    package var runID: String?
    package var stepID: String?
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
