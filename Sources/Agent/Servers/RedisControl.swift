import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking RESP client for the agent's own calls to a redis-server (PING, FLUSHALL, INFO,
/// DBSIZE): one connection, one command at a time, every wait bounded.
final class RedisControl {
    private let fd: Int32
    private let endpoint: Endpoint
    private var parser = RESPParser()

    /// Connects to `endpoint`; gives up after `timeoutMs`.
    init(_ endpoint: Endpoint, timeoutMs: Int32 = 2000) throws {
        self.endpoint = endpoint
        fd = try Socket.connected(to: endpoint, type: Int32(SOCK_STREAM.rawValue), timeoutMs: timeoutMs)
        Socket.setReceiveTimeout(fd, ns: Int64(timeoutMs) * 1_000_000)
        Socket.setSendTimeout(fd, ms: Int(timeoutMs))
    }

    deinit { close(fd) }

    /// Sends one command and returns its reply; a `-ERR` reply is thrown as `server-protocol`.
    func call(_ parts: String...) throws -> RESPValue {
        let request = RESP.command(parts)
        let sent = request.withUnsafeBytes { Socket.sendAll(fd, $0.baseAddress!, count: $0.count) }
        guard case .done = sent else { throw Socket.error("send to redis at \(endpoint)", code: .serverFailed) }
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            do {
                if let value = try parser.next() {
                    if case .error(let message) = value {
                        throw WireError(.serverProtocol, "redis at \(endpoint) answered \(parts[0]) with: \(message)")
                    }
                    return value
                }
            } catch let error as RESPError {
                throw WireError(.serverProtocol, "redis at \(endpoint): \(error)")
            }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 {
                parser.append(chunk[0..<n])
            } else if n == 0 {
                throw WireError(.serverFailed, "redis at \(endpoint) closed the connection during \(parts[0])")
            } else if errno != EINTR {
                throw Socket.error("no answer from redis at \(endpoint) to \(parts[0])", code: .serverFailed)
            }
        }
    }

    /// One field of `INFO section` as a number (e.g. `used_memory`).
    func info(_ section: String, field: String) throws -> Double? {
        guard let text = try call("INFO", section).text else { return nil }
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix(field + ":") {
            return Double(line.dropFirst(field.count + 1))
        }
        return nil
    }

    /// DBSIZE.
    func dbSize() throws -> Int64 {
        guard case .integer(let n) = try call("DBSIZE") else {
            throw WireError(.serverProtocol, "redis at \(endpoint) answered DBSIZE with a non-integer")
        }
        return n
    }
}
