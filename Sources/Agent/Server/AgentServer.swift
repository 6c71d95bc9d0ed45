import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Shared
import Synchronization

/// The agent's control server, run as a ``Service``: accepts connections, hands each to an
/// ``AgentConnection``, and on graceful shutdown stops every session (and so all load and servers).
struct AgentServer: Service {
    let config: AgentConfig
    let logger: Logger
    let log: EventLog
    /// Called once the server listens, with the bound address.
    var onListening: @Sendable (Endpoint) -> Void = { _ in }
    /// The agent's `/metrics`, when served.
    let metrics: AgentMetrics?

    init(
        config: AgentConfig, logger: Logger, metrics: AgentMetrics? = nil,
        onListening: @escaping @Sendable (Endpoint) -> Void = { _ in }
    ) {
        self.config = config
        self.logger = logger
        self.metrics = metrics
        var observer: (@Sendable (LogRecord) -> Void)?
        if let metrics { observer = { metrics.observe($0) } }
        self.log = EventLog(host: config.name, directory: config.logDirectory, observer: observer)
        self.onListening = onListening
    }

    func run() async throws {
        let maxPayload = config.maxPayload
        let server: NIOAsyncChannel<NIOAsyncChannel<WireMessage, WireMessage>, Never>
        do {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .bind(host: config.listen.host, port: config.listen.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(WireMessageDecoder(maxPayload: maxPayload)))
                        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(WireMessageEncoder()))
                        try channel.pipeline.syncOperations.addHandler(ClockProbeResponder())
                        return try NIOAsyncChannel<WireMessage, WireMessage>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw WireError(.unreachable, "cannot listen on \(config.listen): \(error)")
        }
        let bound = Endpoint(host: config.listen.host, port: server.channel.localAddress?.port ?? config.listen.port)
        log.record("agent.listening", ["address": bound.description, "version": LockstepVersion.current])
        logger.info("listening", metadata: ["agent.address": "\(bound)", "agent.name": "\(config.name)"])
        onListening(bound)

        var facts = HostFacts.current(softwareVersion: LockstepVersion.current, provenance: true)
        facts.timestamping = Timestamping.of(address: config.listen.host)
        let host = facts
        // Clock probes on a UDP port of the control address (the same number when it is free).
        let probes = try? ProbeResponder(host: config.listen.host, preferredPort: bound.port)
        if let probes { metrics?.readProbes { probes.dropped } }
        let slot = SessionSlot()
        let open = LockedValue<[ObjectIdentifier: Channel]>([:])
        let serverChannel = server.channel
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        let id = ObjectIdentifier(connection.channel)
                        open.withLock { $0[id] = connection.channel }
                        group.addTask {
                            await AgentConnection(
                                config: config, log: log, logger: logger, slot: slot, host: host, probes: probes
                            ).run(connection)
                            _ = open.withLock { $0.removeValue(forKey: id) }
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            logger.info("shutting down")
            serverChannel.close(promise: nil)
            open.withLock { $0.values.forEach { $0.close(promise: nil) } }
        }
        log.record("agent.stopped")
    }
}
