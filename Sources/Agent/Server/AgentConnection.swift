import Crypto
import Logging
import NIOCore
import Shared
import Synchronization

/// One control connection: the handshake, then (if it authenticates and the agent is free) a session.
struct AgentConnection: Sendable {
    let config: AgentConfig
    let log: EventLog
    let logger: Logger
    let slot: SessionSlot
    let host: HostFacts
    /// The UDP clock-probe path, when it could be bound.
    let probes: ProbeResponder?

    func run(_ connection: NIOAsyncChannel<WireMessage, WireMessage>) async {
        let channel = connection.channel
        let peer = channel.remoteAddress?.description ?? "unknown"
        var logger = logger
        logger[metadataKey: "peer.address"] = "\(peer)"
        let deadline = channel.eventLoop.scheduleTask(in: .nanoseconds(config.handshakeTimeoutNs)) {
            channel.close(promise: nil)
        }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                do {
                    guard let (coordinator, proof, probeKey) = try await handshake(&iterator, outbound) else { return }
                    deadline.cancel()
                    // The slot is taken before the proof goes out: a coordinator that is told it is in, is in.
                    guard slot.acquire() else {
                        log.record("session.busy", level: "warning", ["peer": peer])
                        try await outbound.write(
                            .failure(
                                WireFailure(
                                    code: .busy,
                                    message: "agent \(config.name) is busy with another coordinator session")))
                        return
                    }
                    defer { slot.release() }
                    if let probeKey { probes?.activate(probeKey) }
                    defer { probes?.deactivate() }
                    try await outbound.write(proof)
                    log.record("session.open", ["coordinator": coordinator, "peer": peer])
                    logger.info("session open", metadata: ["coordinator.name": "\(coordinator)"])
                    let reason = try await session(&iterator, outbound, channel: channel)
                    log.record("session.closed", ["reason": reason])
                    logger.info("session closed", metadata: ["session.reason": "\(reason)"])
                } catch let error as WireError {
                    log.record("connection.rejected", level: "warning", ["peer": peer, "error": error.description])
                    logger.warning("closing connection", metadata: ["error": "\(error)"])
                    try? await outbound.write(.failure(WireFailure(error)))
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
        deadline.cancel()
    }

    /// Runs the handshake up to the coordinator's proof; the coordinator's name and the agent's proof
    /// (not yet sent) once it authenticated, `nil` if the connection ended.
    private func handshake(
        _ iterator: inout NIOAsyncChannelInboundStream<WireMessage>.AsyncIterator,
        _ outbound: NIOAsyncChannelOutboundWriter<WireMessage>
    ) async throws -> (String, WireMessage, ProbeKey?)? {
        var machine = AgentHandshake(
            token: config.token, name: config.name, host: host, nonce: .init(randomBytes(32)), probePort: probes?.port)
        while let message = try await iterator.next() {
            switch machine.received(message) {
            case .send(let reply):
                try await outbound.write(reply)
            case .authenticated(let reply, let coordinator):
                return (coordinator, reply, machine.probeKey)
            case .reject(let failure):
                throw failure.error
            }
        }
        return nil
    }

    /// Serves an authenticated session until bye, disconnect or lease expiry; returns why it ended.
    private func session(
        _ iterator: inout NIOAsyncChannelInboundStream<WireMessage>.AsyncIterator,
        _ outbound: NIOAsyncChannelOutboundWriter<WireMessage>, channel: Channel
    ) async throws -> String {
        let (messages, outbox) = AsyncStream<WireMessage>.makeStream()
        let session = AgentSession(outbox: outbox, log: log, config: config)
        let lastHeard = LockedValue(MonotonicClock.now())
        let leaseExpired = LockedValue(false)
        defer { outbox.finish() }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in messages { try? await outbound.write(message) }
            }
            group.addTask { [config] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .nanoseconds(config.heartbeatNs))
                    if MonotonicClock.now() - lastHeard.value > config.leaseNs {
                        leaseExpired.value = true
                        session.abandon(
                            reason: "lease expired: no word from the coordinator for \(config.leaseNs / 1_000_000) ms")
                        channel.close(promise: nil)
                        return
                    }
                    outbox.yield(.heartbeat(Heartbeat(tNs: MonotonicClock.now())))
                }
            }
            defer { group.cancelAll() }
            var reason = "coordinator disconnected"
            do {
                while let message = try await iterator.next() {
                    let now = MonotonicClock.now()
                    lastHeard.value = now
                    if case .bye = message {
                        reason = "bye"
                        break
                    }
                    session.received(message, receivedNs: now)
                }
            } catch let error as WireError {
                session.abandon(reason: error.description)
                throw error
            } catch {
                reason = "connection error: \(error)"
            }
            if leaseExpired.value { reason = "lease expired" }
            session.abandon(reason: reason)
            return reason
        }
    }
}

/// The agent serves one coordinator session at a time.
final class SessionSlot: Sendable {
    private let taken = Atomic<Bool>(false)

    init() {}

    /// Takes the slot; `false` when another session holds it.
    func acquire() -> Bool {
        taken.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }

    func release() { taken.store(false, ordering: .releasing) }
}
