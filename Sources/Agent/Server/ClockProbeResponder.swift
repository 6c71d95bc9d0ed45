import NIOCore
import Shared

/// Answers clock probes on the event loop the moment they are decoded, so `t1` and `t2` carry no
/// scheduling delay of the session's task. It answers only once it has seen the agent's
/// `authenticated` message go out on this connection; before that probes go on to the handshake,
/// which refuses them.
final class ClockProbeResponder: ChannelDuplexHandler {
    typealias InboundIn = WireMessage
    typealias InboundOut = WireMessage
    typealias OutboundIn = WireMessage
    typealias OutboundOut = WireMessage

    private var authenticated = false

    init() {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let t1 = MonotonicClock.now()
        guard authenticated, case .clockProbe(let probe) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        let reply = WireMessage.clockReply(ClockReply(t0: probe.t0, t1: t1, t2: MonotonicClock.now()))
        context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .authenticated = unwrapOutboundIn(data) { authenticated = true }
        context.write(data, promise: promise)
    }
}
