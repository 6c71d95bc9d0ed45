import NIOCore
import NIOPosix
import Shared

/// The coordinator's control connection to one agent. Inbound messages go to the run's ``Mailbox``;
/// sends are fire-and-forget (a broken connection shows up there as a lost link).
final class AgentLink: Sendable {
    /// Position in the mailbox.
    let index: Int
    /// The role this agent plays.
    let role: Role
    /// Where the agent's control server listens.
    let address: Endpoint
    private let channel: Channel

    private init(index: Int, role: Role, address: Endpoint, channel: Channel) {
        self.index = index
        self.role = role
        self.address = address
        self.channel = channel
    }

    /// Opens the TCP connection; the handshake is up to the caller.
    static func connect(
        index: Int, role: Role, address: Endpoint, mailbox: Mailbox,
        maxPayload: Int = WireFrame.defaultMaxPayload
    ) async throws -> AgentLink {
        let sink = mailbox.sink
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(3))
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(WireMessageDecoder(maxPayload: maxPayload)))
                        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(WireMessageEncoder()))
                        try channel.pipeline.syncOperations.addHandler(LinkHandler(index: index, sink: sink))
                    }
                }
                .connect(host: address.host, port: address.port).get()
            return AgentLink(index: index, role: role, address: address, channel: channel)
        } catch {
            throw WireError(.unreachable, "cannot reach the \(role) agent at \(address): \(Self.describe(error))")
        }
    }

    /// Sends a message; failures surface in the mailbox.
    func send(_ message: WireMessage) {
        channel.writeAndFlush(message, promise: nil)
    }

    /// Sends a clock probe stamped on the connection's event loop right before it is written.
    func sendClockProbe() {
        let channel = self.channel
        channel.eventLoop.execute {
            channel.writeAndFlush(WireMessage.clockProbe(ClockProbe(t0: MonotonicClock.now())), promise: nil)
        }
    }

    /// Closes the connection.
    func close() async {
        try? await channel.close()
    }

    private static func describe(_ error: Error) -> String {
        if let io = error as? IOError { return io.description }
        if case ChannelError.connectTimeout = error { return "connection timed out" }
        return "\(error)"
    }
}

/// Feeds a link's inbound messages into the mailbox, stamped with their arrival time.
private final class LinkHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = WireMessage
    let index: Int
    let sink: AsyncStream<Mailbox.Event>.Continuation

    init(index: Int, sink: AsyncStream<Mailbox.Event>.Continuation) {
        self.index = index
        self.sink = sink
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let arrived = MonotonicClock.now()
        sink.yield(.message(index, unwrapInboundIn(data), arrivedNs: arrived))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let wire = error as? WireError ?? WireError(.connectionLost, "control connection failed: \(error)")
        sink.yield(.lost(index, wire))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        sink.yield(.lost(index, WireError(.connectionLost, "control connection closed (agent died or dropped us)")))
    }
}
