import Foundation
import Observe
import Prometheus
import Shared
import Synchronization

/// The agent's `/metrics` (`serve --metrics ADDR`), in Prometheus's text format through
/// swift-prometheus: up, version, uptime, sessions and the one in progress, sessions refused as busy,
/// steps by outcome and the last one's, lease expiries, guests placed, removed and swept at start,
/// clock-probe packets refused, connections rejected. Fed by the agent's own ``EventLog`` (every
/// count is an event the log already records), so no engine or data-plane path calls it.
final class AgentMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let startedAt = Date()
    private let sessions: Counter
    private let active: Gauge
    private let busy: Counter
    private let finished: Counter
    private let failed: Counter
    private let lastSuccess: Gauge
    private let lastEnd: Gauge
    private let leases: Counter
    private let placed: Counter
    private let removed: Counter
    private let swept: Counter
    private let rejected: Counter
    private let probesRefused: Counter
    private let uptime: Gauge
    private let probeSource = Mutex<(@Sendable () -> UInt64)?>(nil)
    private let probesSeen = Mutex<UInt64>(0)

    init(name: String) {
        let r = registry
        r.gauge("lockstep_agent_up", "1 while the agent serves").set(1.0)
        r.gauge(
            "lockstep_agent_info", "the agent's version and name (always 1)",
            labels: [("version", LockstepVersion.current), ("agent", name)]
        ).set(1.0)
        uptime = r.gauge("lockstep_agent_uptime_seconds", "seconds since the agent started")
        sessions = r.counter("lockstep_agent_sessions_total", "coordinator sessions opened")
        active = r.gauge("lockstep_agent_session_active", "1 while a coordinator session holds the agent")
        busy = r.counter("lockstep_agent_busy_refusals_total", "sessions refused because another one held the agent")
        finished = r.counter("lockstep_agent_steps_total", "steps ended, by outcome", labels: [("outcome", "finished")])
        failed = r.counter("lockstep_agent_steps_total", "steps ended, by outcome", labels: [("outcome", "failed")])
        lastSuccess = r.gauge("lockstep_agent_last_step_success", "1 when the last step finished, 0 when it failed")
        lastEnd = r.gauge("lockstep_agent_last_step_end_timestamp_seconds", "wall-clock time the last step ended")
        leases = r.counter(
            "lockstep_agent_lease_expiries_total", "sessions ended because the coordinator went silent past the lease")
        placed = r.counter("lockstep_agent_guests_placed_total", "guests (containers, VMs) placed")
        removed = r.counter("lockstep_agent_guests_removed_total", "guests removed at their session's end")
        swept = r.counter(
            "lockstep_agent_guests_swept_total", "leftovers of a killed agent removed at this agent's start")
        rejected = r.counter(
            "lockstep_agent_connections_rejected_total", "control connections refused (handshake failed)")
        probesRefused = r.counter(
            "lockstep_agent_probe_packets_refused_total",
            "clock-probe packets dropped: forged, replayed, malformed or over the rate")
    }

    /// Counts what the agent's event log records.
    func observe(_ record: LogRecord) {
        switch record.event {
        case "session.open":
            sessions.increment()
            active.set(1.0)
        case "session.closed":
            active.set(0.0)
            if record.fields["reason"]?.contains("lease expired") == true { leases.increment() }
        case "session.busy": busy.increment()
        case "connection.rejected": rejected.increment()
        case "step.finished":
            finished.increment()
            lastSuccess.set(1.0)
            lastEnd.set(Date().timeIntervalSince1970)
        case "step.failed", "step.abandoned":
            failed.increment()
            lastSuccess.set(0.0)
            lastEnd.set(Date().timeIntervalSince1970)
        case "guest.placed": placed.increment()
        case "guest.removed": removed.increment()
        default: break
        }
    }

    /// Leftovers the start-up sweep removed.
    func swept(_ count: Int) { if count > 0 { swept.increment(by: Int64(count)) } }

    /// Where the clock-probe responder's refused count is read at each scrape.
    func readProbes(from source: @escaping @Sendable () -> UInt64) { probeSource.withLock { $0 = source } }

    /// The exposition text, read now.
    func text() -> String {
        uptime.set(Date().timeIntervalSince(startedAt))
        if let source = probeSource.withLock({ $0 }) {
            let now = source()
            let delta = probesSeen.withLock { seen -> UInt64 in
                defer { seen = max(seen, now) }
                return now > seen ? now - seen : 0
            }
            if delta > 0 { probesRefused.increment(by: Int64(delta)) }
        }
        return registry.emitToString()
    }

    /// Serves `/metrics` on `address` (HOST:PORT).
    func serve(on address: Endpoint) throws -> HTTPEndpoint {
        try HTTPEndpoint(host: address.host, port: address.port) { [self] path in
            guard path == "/metrics" else { return .notFound }
            return HTTPEndpoint.Response(contentType: "text/plain; version=0.0.4; charset=utf-8", text: text())
        }
    }
}
