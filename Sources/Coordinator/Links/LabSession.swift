import Crypto
import Foundation
import NIOCore
import Shared

/// An authenticated agent of a session.
struct ConnectedAgent: Sendable {
    let link: AgentLink
    /// The agent's own name (its `--name`).
    let name: String
    let version: String
    let host: HostFacts
    /// The agent's clock-probe port and the session's probe key, when it announced one.
    var probe: (port: Int, key: ProbeKey)?
}

/// The coordinator's live connections to its agents: connects and authenticates them, keeps
/// heartbeats flowing, syncs clocks, and hands the run one ``Mailbox`` to wait on.
final class LabSession {
    let mailbox: Mailbox
    private(set) var agents: [ConnectedAgent] = []
    private let token: Token
    private let log: RunLog
    private var ticker: Task<Void, Never>?
    private let links = LockedValue<[AgentLink]>([])
    /// Heartbeat period towards the agents.
    static let heartbeatNs: Int64 = 500_000_000

    init(token: Token, log: RunLog, heartbeatTimeoutNs: Int64 = 3_000_000_000) {
        self.token = token
        self.log = log
        mailbox = Mailbox(heartbeatTimeoutNs: heartbeatTimeoutNs)
    }

    /// Connects and authenticates one agent per (role, address), in order. An agent that answers
    /// `busy` is asked again every 250 ms for up to `busyWaitNs` (a session that just ended may
    /// still be stopping its servers: a MariaDB shutdown takes seconds), `onBusy` told once.
    func connect(
        _ targets: [(Role, Endpoint)], busyWaitNs: Int64 = 0, onBusy: (String) -> Void = { _ in }
    ) async throws {
        for target in targets {
            let deadline = MonotonicClock.now() + busyWaitNs
            var told = false
            while true {
                do {
                    try await connectOne(target)
                    break
                } catch let error as WireError where error.code == .busy && MonotonicClock.now() < deadline {
                    if !told { onBusy(error.message) }
                    told = true
                    try await Task.sleep(nanoseconds: 250_000_000)
                }
            }
        }
    }

    /// Link indices are never reused, so that nothing a refused link left in the mailbox reaches its successor.
    private var nextLinkIndex = 0

    private func connectOne(_ target: (Role, Endpoint)) async throws {
        let (role, address) = target
        let index = nextLinkIndex
        nextLinkIndex += 1
        let link = try await AgentLink.connect(index: index, role: role, address: address, mailbox: mailbox)
        mailbox.register(index, name: "\(role.rawValue)@\(address)")
        var handshake = CoordinatorHandshake(token: token, nonce: Data(randomBytes(32)))
        link.send(handshake.start())
        let deadline = MonotonicClock.now() + 5_000_000_000
        var connected: ConnectedAgent?
        do {
            while connected == nil {
                let (message, _) = try await mailbox.next(from: index, deadlineNs: deadline)
                switch handshake.received(message) {
                case .send(let reply):
                    link.send(reply)
                case .authenticated(let name, let version, let host):
                    connected = ConnectedAgent(
                        link: link, name: name, version: version, host: host, probe: handshake.probe)
                    mailbox.rename(index, to: name)
                case .fail(let error):
                    throw WireError(error.code, "the \(role) agent at \(address) refused us: \(error.message)")
                }
            }
        } catch let error as WireError where error.code == .busy {
            // Refused (the agent reports busy as a failure): the link is no agent of this session.
            mailbox.forget(index)
            await link.close()
            throw error
        } catch {
            await link.close()
            throw error
        }
        agents.append(connected!)
        links.withLock { $0.append(link) }
        log.record(
            "agent.connected", ["role": role.rawValue, "agent": connected!.name, "address": address.description])
        if ticker == nil { startTicker() }
    }

    /// A guest agent reached through ports published on its host: its clock probes go to the host
    /// port that `hostPort` publishes for the port it announced.
    func publishProbe(ofLink index: Int, _ hostPort: (Int) -> Int) {
        guard let at = agents.firstIndex(where: { $0.link.index == index }), let probe = agents[at].probe else {
            return
        }
        agents[at].probe = (hostPort(probe.port), probe.key)
    }

    /// The agents playing `role`, in the order they were connected.
    func agents(_ role: Role) -> [ConnectedAgent] { agents.filter { $0.link.role == role } }

    /// Probe sequence numbers per link: increasing over the session, as the agent requires.
    private var probeSequence: [Int: UInt64] = [:]

    /// Estimates one agent's clock offset: over the dedicated UDP probe path (kernel timestamps,
    /// 64 probes, minimum round trip) where the agent offers one and it answers, else over the
    /// control connection. `method` in the estimate says which.
    func syncClock(_ agent: ConnectedAgent, probes: Int = 24) async throws -> ClockEstimate {
        if let probe = agent.probe {
            let client = UDPProbeClient(host: agent.link.address.host, port: probe.port, key: probe.key)
            let (result, last) = await client.run(from: probeSequence[agent.link.index] ?? 0)
            probeSequence[agent.link.index] = last
            if result.exchanges.count >= 8, var estimate = ClockEstimate(exchanges: result.exchanges) {
                estimate.method = result.kernelReceive ? "udp-kernel-timestamps" : "udp"
                estimate.stamps = result.stamps
                log.record(
                    "clock.sync",
                    [
                        "agent": agent.name, "offset_ns": String(estimate.offsetNs),
                        "error_ns": String(estimate.errorNs),
                        "method": estimate.method ?? "", "probes": String(result.exchanges.count),
                    ])
                return estimate
            }
            log.record(
                "clock.sync.fallback", level: "warning",
                ["agent": agent.name, "answered": String(result.exchanges.count), "port": String(probe.port)])
        }
        var estimate = try await syncOverControl(agent, probes: probes)
        estimate.method = "control-channel"
        estimate.stamps = .controlChannel
        return estimate
    }

    /// The NIO fallback: probes on the control connection, stamped on both sides' event loops.
    private func syncOverControl(_ agent: ConnectedAgent, probes: Int) async throws -> ClockEstimate {
        var exchanges: [ClockExchange] = []
        var last: Int64 = .min
        for _ in 0..<probes {
            let sent = MonotonicClock.now()
            agent.link.sendClockProbe()
            let (message, t3) = try await mailbox.next(from: agent.link.index, deadlineNs: sent + 3_000_000_000)
            guard case .clockReply(let reply) = message, reply.t0 > last, reply.t0 <= t3 else {
                throw WireError(.unexpectedMessage, "agent \(agent.name) answered a clock probe with \(message.kind)")
            }
            last = reply.t0
            exchanges.append(ClockExchange(t0: reply.t0, t1: reply.t1, t2: reply.t2, t3: t3))
        }
        let estimate = ClockEstimate(exchanges: exchanges)!
        log.record(
            "clock.sync",
            [
                "agent": agent.name, "offset_ns": String(estimate.offsetNs),
                "error_ns": String(estimate.errorNs),
            ])
        return estimate
    }

    /// Fetches an agent's whole event log. Trouble on other links does not interrupt it.
    func fetchLog(_ agent: ConnectedAgent, timeoutNs: Int64 = 5_000_000_000) async throws -> [LogRecord] {
        var records: [LogRecord] = []
        var from = 0
        let deadline = MonotonicClock.now() + timeoutNs
        while true {
            agent.link.send(.fetchLog(FetchLog(from: from)))
            let (message, _) = try await mailbox.next(from: agent.link.index, deadlineNs: deadline, onlyThis: true)
            guard case .logBatch(let batch) = message else {
                throw WireError(.unexpectedMessage, "agent \(agent.name) answered a log fetch with \(message.kind)")
            }
            records += batch.records
            if batch.complete || batch.next <= from { return records }
            from = batch.next
        }
    }

    /// An agent whose connection died (it restarted: a reboot, a crash, a kill) connected afresh at
    /// the same address in the same role: tries with a growing pause (0.25 s, doubling, at most 4 s)
    /// for up to `withinNs` (an agent that still ends its last session answers `busy` and is asked
    /// again). The new agent takes the old one's place (`agents(role)` order is kept); its clock is
    /// the caller's to sync.
    func reconnect(_ old: ConnectedAgent, withinNs: Int64) async throws -> ConnectedAgent {
        mailbox.forget(old.link.index)
        links.withLock { $0.removeAll { $0 === old.link } }
        await old.link.close()
        var pause: UInt64 = 250_000_000
        var lastError: Error = WireError(.connectionLost, "agent \(old.name) did not come back")
        let deadline = MonotonicClock.now() + withinNs
        var attempt = 0
        while true {
            attempt += 1
            do {
                try await connectOne((old.link.role, old.link.address))
                let fresh = agents.removeLast()
                if let at = agents.firstIndex(where: { $0.link === old.link }) {
                    agents[at] = fresh
                } else {
                    agents.append(fresh)
                }
                log.record(
                    "agent.reconnected",
                    ["agent": fresh.name, "address": old.link.address.description, "attempt": String(attempt)])
                return fresh
            } catch {
                lastError = error
                log.record(
                    "agent.reconnect.failed", level: "warning",
                    ["agent": old.name, "attempt": String(attempt), "error": "\(error)"])
            }
            let left = deadline - MonotonicClock.now()
            guard left > 0 else { break }
            try await Task.sleep(nanoseconds: min(pause, UInt64(left)))
            pause = min(pause * 2, 4_000_000_000)
        }
        let message = (lastError as? WireError)?.message ?? "\(lastError)"
        throw WireError(
            .connectionLost,
            "agent \(old.name) at \(old.link.address) went away and did not come back within "
                + "\(withinNs / 1_000_000_000) s (\(attempt) tries; last: \(message))")
    }

    /// Tells every live agent to abort; best effort.
    func abortAll(reason: String) {
        for agent in agents where mailbox.isAlive(agent.link.index) {
            agent.link.send(.abort(Abort(reason: reason)))
        }
        log.record("run.abort", level: "error", ["reason": reason])
    }

    /// Says bye to every agent and closes the connections.
    func close() async {
        ticker?.cancel()
        // Guests (connected last) first: their host removes them when its own session ends.
        for agent in agents.reversed() {
            if mailbox.isAlive(agent.link.index) { agent.link.send(.bye(Bye())) }
            await agent.link.close()
        }
        mailbox.sink.finish()
    }

    private func startTicker() {
        ticker = Task.detached(operation: Self.tick(sink: mailbox.sink, links: links, periodNs: Self.heartbeatNs))
    }

    /// Every 100 ms a tick for the mailbox's timeout checks; every `periodNs` a heartbeat to each agent.
    private static func tick(
        sink: AsyncStream<Mailbox.Event>.Continuation, links: LockedValue<[AgentLink]>,
        periodNs: Int64
    ) -> @Sendable () async -> Void {
        {
            var beat: Int64 = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                sink.yield(.tick(atNs: MonotonicClock.now()))
                let now = MonotonicClock.now()
                if now - beat >= periodNs {
                    beat = now
                    for link in links.value { link.send(.heartbeat(Heartbeat(tNs: now))) }
                }
            }
        }
    }
}
