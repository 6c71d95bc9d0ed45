import Foundation
import NIOCore
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking-socket client that speaks (or abuses) the control protocol byte by byte, for attack
/// and lease tests. Not how the coordinator talks; it lets a test send anything.
final class RawClient: @unchecked Sendable {
    private let fd: Int32
    private var buffer = ByteBuffer()
    private var decoder = WireMessageDecoder()

    init(_ endpoint: Endpoint) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(endpoint.port).bigEndian)
        addr.sin_addr.s_addr = inet_addr(endpoint.host)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else { throw NotListening(endpoint: endpoint) }
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func send(_ message: WireMessage) throws {
        let frame = try message.frame()
        send(bytes: Array(frame.readableBytesView))
    }

    enum Received: Equatable, Sendable {
        case message(WireMessage)
        case closed
        case timeout
    }

    /// The next message, `closed` at end of stream, or `timeout` after `seconds`. Heartbeats are skipped.
    /// Waits on a thread of its own: blocking the cooperative pool would starve in-process agents.
    func receive(seconds: Double = 5) async throws -> Received {
        try await offPool { try self.receiveBlocking(seconds: seconds) }
    }

    private func receiveBlocking(seconds: Double) throws -> Received {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if let m = try decoder.decode(buffer: &buffer) {
                if case .heartbeat = m { continue }
                return .message(m)
            }
            if Date() > deadline { return .timeout }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return .closed }
            if n > 0 {
                buffer.writeBytes(chunk[0..<n])
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                return .closed
            }
        }
    }

    /// Completes the handshake with `token`; the agent's reply to the proof.
    func authenticate(token: Token) async throws -> Received {
        var machine = CoordinatorHandshake(token: token, name: "raw", nonce: Data(randomBytes(32)))
        try send(machine.start())
        guard case .message(let hello) = try await receive() else { return .closed }
        guard case .send(let proof) = machine.received(hello) else { return .message(hello) }
        try send(proof)
        return try await receive()
    }
}

/// Runs blocking work on a new thread and awaits its result.
func offPool<T: Sendable>(_ body: @escaping () throws -> T) async throws -> T {
    nonisolated(unsafe) let body = body
    return try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
