import Shared

/// Puts the coordinator's and the agents' records on the coordinator's timeline and in order.
enum MergedLog {
    /// One line of `merged-log.jsonl`.
    struct Line: Encodable {
        var t_ns: Int64
        var host: String
        var level: String
        var event: String
        var run: String?
        var step: String?
        var agent_t_ns: Int64?
        var fields: [String: String]
    }

    /// Merges: agent records are moved by their agent's clock track; records from before `sinceNs`
    /// (coordinator time: older sessions of a long-lived agent) are left out. Sorted by time, stable.
    static func merge(
        coordinator: [LogRecord], agents: [(records: [LogRecord], clock: ClockTrack)],
        sinceNs: Int64
    ) -> [Line] {
        var lines = coordinator.map {
            Line(
                t_ns: $0.tNs, host: $0.host, level: $0.level, event: $0.event, run: $0.runID, step: $0.stepID,
                agent_t_ns: nil, fields: $0.fields)
        }
        for (records, clock) in agents {
            for record in records {
                let t = clock.toCoordinator(record.tNs)
                guard t >= sinceNs else { continue }
                lines.append(
                    Line(
                        t_ns: t, host: record.host, level: record.level, event: record.event,
                        run: record.runID, step: record.stepID, agent_t_ns: record.tNs, fields: record.fields))
            }
        }
        return lines.enumerated().sorted { ($0.element.t_ns, $0.offset) < ($1.element.t_ns, $1.offset) }.map(\.element)
    }
}
