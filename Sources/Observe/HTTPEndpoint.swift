import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small read-only HTTP/1.1 server (SwiftNIO's HTTP codec) for `/metrics` and the live page: every
/// request is a GET answered by `handler` and the connection closed. It cannot slow what it
/// observes: at most `maxConnections` at once (more are closed at accept), a connection that sends
/// no complete request within `requestTimeout` or has not been answered and drained within
/// `connectionDeadline` is closed, request bodies are discarded, and handlers run on NIO's thread
/// pool, not on the event loop.
package final class HTTPEndpoint: Sendable {
    /// One answer.
    package struct Response: Sendable {
        package var status: HTTPResponseStatus
        package var contentType: String
        package var body: [UInt8]

        package init(status: HTTPResponseStatus = .ok, contentType: String, body: [UInt8]) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }

        package init(status: HTTPResponseStatus = .ok, contentType: String, text: String) {
            self.init(status: status, contentType: contentType, body: Array(text.utf8))
        }

        package static let notFound = Response(status: .notFound, contentType: "text/plain", text: "not found\n")
    }

    /// The path of a request (query string removed) to its answer.
    package typealias Handler = @Sendable (_ path: String) -> Response

    private let channel: any Channel
    /// The address it listens on, `HOST:PORT` (the port the kernel gave when 0 was asked).
    package let address: String

    /// Listens on `host:port` and answers with `handler`.
    package init(
        host: String, port: Int, maxConnections: Int = 128, requestTimeout: TimeAmount = .seconds(5),
        connectionDeadline: TimeAmount = .seconds(30), handler: @escaping Handler
    ) throws {
        let open = NIOLockedValueBox(0)
        let pool = NIOThreadPool.singleton
        channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelInitializer { channel in
                let admitted = open.withLockedValue { count -> Bool in
                    guard count < maxConnections else { return false }
                    count += 1
                    return true
                }
                guard admitted else { return channel.close() }
                channel.closeFuture.whenComplete { _ in open.withLockedValue { $0 -= 1 } }
                // A hard deadline per connection: a reader that never drains its answer goes too.
                let deadline = channel.eventLoop.scheduleTask(in: connectionDeadline) { channel.close(promise: nil) }
                channel.closeFuture.whenComplete { _ in deadline.cancel() }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(IdleStateHandler(readTimeout: requestTimeout))
                    try sync.addHandler(RequestHandler(handler: handler, pool: pool))
                }
            }
            .bind(host: host, port: port).wait()
        address = "\(host):\(channel.localAddress?.port ?? port)"
    }

    /// Stops listening and closes the open connections' listener.
    package func close() {
        try? channel.close().wait()
    }
}

/// Answers one GET per connection and closes it.
private final class RequestHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let handler: HTTPEndpoint.Handler
    let pool: NIOThreadPool
    private var path: String?
    private var method: HTTPMethod = .GET

    init(handler: @escaping HTTPEndpoint.Handler, pool: NIOThreadPool) {
        self.handler = handler
        self.pool = pool
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "/")
            method = head.method
        case .body:
            break  // discarded: nothing here takes a body
        case .end:
            guard let path else { return }
            self.path = nil
            let channel = context.channel
            let loop = context.eventLoop
            let handler = self.handler
            let isGet = method == .GET || method == .HEAD
            let head = method == .HEAD
            let future: EventLoopFuture<HTTPEndpoint.Response> =
                isGet
                ? pool.runIfActive(eventLoop: loop) { handler(path) }
                : loop.makeSucceededFuture(
                    HTTPEndpoint.Response(
                        status: .methodNotAllowed, contentType: "text/plain", text: "only GET is served\n"))
            future.whenComplete { result in
                let response =
                    (try? result.get())
                    ?? HTTPEndpoint.Response(status: .internalServerError, contentType: "text/plain", text: "error\n")
                Self.write(response, head: head, to: channel)
            }
        }
    }

    private static func write(_ response: HTTPEndpoint.Response, head: Bool, to channel: any Channel) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Cache-Control", value: "no-store")
        let part = HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)
        channel.write(HTTPServerResponsePart.head(part), promise: nil)
        if !head {
            channel.write(
                HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(bytes: response.body))), promise: nil)
        }
        channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in channel.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
