import Foundation
import Logging
import ServiceLifecycle
import Shared

@testable import Agent

/// An agent served inside the test process, shut down gracefully at the end.
final class InProcessAgent {
    let endpoint: Endpoint
    private let group: ServiceGroup
    private let task: Task<Void, Error>

    init(name: String, token: Token, lease: Double = 3, handshakeTimeout: Double = 5) async throws {
        var config = AgentConfig(listen: Endpoint(host: "127.0.0.1", port: 0), token: token, name: name)
        config.leaseNs = Int64(lease * 1e9)
        config.handshakeTimeoutNs = Int64(handshakeTimeout * 1e9)
        let (bound, continuation) = AsyncStream<Endpoint>.makeStream()
        var logger = Logger(label: "test-agent")
        logger.logLevel = .critical
        let server = AgentServer(config: config, logger: logger, onListening: { continuation.yield($0) })
        group = ServiceGroup(configuration: .init(services: [.init(service: server)], logger: logger))
        task = Task { [group] in try await group.run() }
        var iterator = bound.makeAsyncIterator()
        guard let endpoint = await iterator.next() else { throw NotListening(endpoint: config.listen) }
        self.endpoint = endpoint
    }

    func shutdown() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
