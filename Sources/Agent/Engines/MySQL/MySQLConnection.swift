import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// One blocking connection to a MySQL server: login, text queries, prepared statements. The SUT
/// agent uses it to set up tables; each load-generator thread owns one.
///
/// Every wait is bounded: while logging in, and on connections that are not `watched` throughout,
/// a receive gives up after `stallNs` without a byte (checked every 200 ms); a watched connection's
/// waits are bounded by the stall watchdog, which shuts its socket down.
final class MySQLConnection {
    private let fd: Int32
    /// Where it is connected.
    let endpoint: Endpoint
    /// The server's greeting, once logged in.
    private(set) var greeting: MySQLGreeting?
    private let stallNs: Int64
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var sequence: UInt8 = 255

    private init(fd: Int32, endpoint: Endpoint, stallNs: Int64) {
        self.fd = fd
        self.endpoint = endpoint
        self.stallNs = stallNs
        buffer = .allocate(byteCount: 256 * 1024, alignment: 16)
    }

    /// Connects and logs in; gives up after `timeoutMs` per wait. A `watched` connection (a
    /// load-generator thread's) waits without a receive timeout once logged in: a timer armed per
    /// receive costs CPU on the hot path, and the stall watchdog bounds its waits instead.
    convenience init(
        _ endpoint: Endpoint, _ credentials: MySQLCredentials, timeoutMs: Int32 = 5000, stallNs: Int64? = nil,
        watched: Bool = false
    ) throws {
        let fd = try Socket.connected(to: endpoint, type: Int32(SOCK_STREAM.rawValue), timeoutMs: timeoutMs)
        Socket.setReceiveTimeout(fd, ns: 200_000_000)
        Socket.setSendTimeout(fd, ms: Int(timeoutMs))
        self.init(fd: fd, endpoint: endpoint, stallNs: stallNs ?? Int64(timeoutMs) * 1_000_000)
        try login(credentials)
        if watched { Socket.setReceiveTimeout(fd, ns: 0) }
    }

    private func login(_ credentials: MySQLCredentials) throws {
        do {
            var login = MySQLLogin(credentials)
            let first = try readPacket("the server's greeting")
            var step = MySQLLogin.Step.send(try login.respond(toGreeting: first))
            while true {
                switch step {
                case .send(let payload): try sendPacket(payload, sequence: sequence &+ 1)
                case .read: break
                case .done:
                    greeting = login.greeting
                    return
                }
                step = try login.next(try readPacket("the login answer"))
            }
        } catch let error as MySQLServerError {
            throw WireError(.serverProtocol, "MySQL at \(endpoint) refused user \(credentials.user): \(error)")
        } catch let error as MySQLProtocolError {
            throw WireError(.serverProtocol, "MySQL at \(endpoint) during login: \(error)")
        }
    }

    deinit {
        var quit: [UInt8] = []
        MySQLPacket.append([MySQLCommand.quit], sequence: 0, to: &quit)
        _ = quit.withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        close(fd)
        buffer.deallocate()
    }

    // MARK: Convenience calls (setup and tests)

    /// Runs `sql` in the text protocol; rows decoded. A server error is thrown as ``MySQLServerError``.
    @discardableResult
    func query(_ sql: String) throws -> MySQLResult {
        var out: [UInt8] = []
        MySQLPacket.append(MySQLCommand.query(sql), sequence: 0, to: &out)
        return try call(out, expect: .query, decode: true).result
    }

    /// Prepares `sql`.
    func prepare(_ sql: String) throws -> (MySQLPrepared, [MySQLColumn]) {
        var out: [UInt8] = []
        MySQLPacket.append(MySQLCommand.prepare(sql), sequence: 0, to: &out)
        let reader = try call(out, expect: .prepare, decode: true)
        return (reader.prepared!, reader.result.columns)
    }

    /// Executes a prepared statement; rows decoded from the binary protocol.
    @discardableResult
    func execute(_ statement: MySQLPrepared, _ parameters: [MySQLValue]) throws -> MySQLResult {
        guard parameters.count == statement.parameterCount else {
            throw WireError(
                .badStep, "statement takes \(statement.parameterCount) parameter(s), got \(parameters.count)")
        }
        var out: [UInt8] = []
        MySQLPacket.append(MySQLCommand.execute(statement.statementID, parameters), sequence: 0, to: &out)
        return try call(out, expect: .execute, decode: true).result
    }

    private func call(_ packet: [UInt8], expect: MySQLResponseReader.Expect, decode: Bool) throws
        -> MySQLResponseReader
    {
        let reader = try roundTrip(packet, expect: expect, decode: decode)
        if let error = reader.error { throw error }
        return reader
    }

    // MARK: The load generator's path

    /// Sends `request` (one or more whole packets) and reads the answer. Without `decode` rows are
    /// only counted. The server's error, if any, is in the reader's `error`.
    func roundTrip(_ request: [UInt8], expect: MySQLResponseReader.Expect, decode: Bool) throws
        -> MySQLResponseReader
    {
        let sent = request.withUnsafeBytes { Socket.sendAll(fd, $0.baseAddress!, count: $0.count) }
        guard case .done = sent else { throw lost("sending a command") }
        sequence = 0
        var reader = MySQLResponseReader(expect: expect, decode: decode)
        while true {
            while let frame = MySQLPacket.scan(UnsafeRawBufferPointer(rebasing: buffer[start..<end]), at: 0) {
                let base = start
                start += frame.end
                try checkSequence(frame)
                let payload = UnsafeRawBufferPointer(
                    rebasing: buffer[(base + frame.payloadStart)..<(base + frame.payloadStart + frame.payloadCount)])
                do {
                    if try reader.consume(payload) {
                        if start == end { (start, end) = (0, 0) }
                        return reader
                    }
                } catch let error as MySQLProtocolError {
                    throw WireError(.serverProtocol, "MySQL at \(endpoint): \(error)")
                }
            }
            try fill("an answer")
        }
    }

    // MARK: Packets

    private func sendPacket(_ payload: [UInt8], sequence seq: UInt8) throws {
        var out: [UInt8] = []
        sequence = MySQLPacket.append(payload, sequence: seq, to: &out) &- 1
        let sent = out.withUnsafeBytes { Socket.sendAll(fd, $0.baseAddress!, count: $0.count) }
        guard case .done = sent else { throw lost("sending during login") }
    }

    /// Reads one whole packet (login only: its payload is copied).
    private func readPacket(_ what: String) throws -> [UInt8] {
        while true {
            if let frame = MySQLPacket.scan(UnsafeRawBufferPointer(rebasing: buffer[start..<end]), at: 0) {
                let base = start
                start += frame.end
                try checkSequence(frame)
                return Array(buffer[(base + frame.payloadStart)..<(base + frame.payloadStart + frame.payloadCount)])
            }
            try fill(what)
        }
    }

    private func checkSequence(_ frame: MySQLPacket.Frame) throws {
        guard frame.payloadCount < MySQLPacket.maxPayload else {
            throw WireError(.serverProtocol, "MySQL at \(endpoint) sent a packet of 16 MiB or more (not supported)")
        }
        let expected = sequence &+ 1
        guard frame.sequence == expected else {
            throw WireError(
                .serverProtocol, "MySQL at \(endpoint) sent packet sequence \(frame.sequence), expected \(expected)")
        }
        sequence = expected
    }

    /// Reads more bytes, compacting or growing the buffer first; bounded by `stallNs` (or the watchdog).
    private func fill(_ what: String) throws {
        if start > 0 {
            let n = end - start
            if n > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + start, n) }
            (start, end) = (0, n)
        }
        if end == buffer.count {
            guard buffer.count < MySQLPacket.maxLogical else {
                throw WireError(
                    .serverProtocol, "MySQL at \(endpoint) sent a packet over \(MySQLPacket.maxLogical) bytes")
            }
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
            bigger.copyMemory(from: UnsafeRawBufferPointer(buffer))
            buffer.deallocate()
            buffer = bigger
        }
        let waitStart = MonotonicClock.now()
        while true {
            let n = recv(fd, buffer.baseAddress! + end, buffer.count - end, 0)
            if n > 0 {
                end += n
                return
            }
            if n == 0 {
                throw WireError(
                    .serverFailed,
                    "MySQL at \(endpoint) closed the connection while lockstep waited for \(what)"
                        + (end > start ? " (mid-packet, \(end - start) byte(s) of it received)" : ""))
            }
            guard Socket.wouldBlock else { throw lost("waiting for \(what)") }
            if MonotonicClock.now() - waitStart > stallNs {
                throw WireError(
                    .dataPlaneStalled,
                    "MySQL at \(endpoint) sent nothing for \(stallNs / 1_000_000_000) s while lockstep waited for \(what)"
                )
            }
        }
    }

    /// The socket, for a watchdog that shuts it down to wake a blocked receive.
    var descriptor: Int32 { fd }

    private func lost(_ what: String) -> WireError {
        Socket.error("MySQL at \(endpoint): connection failed \(what)", code: .serverFailed)
    }
}
