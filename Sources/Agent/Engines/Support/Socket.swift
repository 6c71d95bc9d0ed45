import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// Thin helpers over POSIX sockets for the data plane. Blocking descriptors; every call that can
/// wait has a receive timeout so threads notice a stop flag.
enum Socket {
    /// An error of a socket call, with `errno`'s text.
    static func error(_ what: String, code: WireError.Code = .dataPlane) -> WireError {
        WireError(code, "\(what): \(String(cString: strerror(errno)))")
    }

    /// Resolves `host:port` to a socket address (numeric or by name).
    static func resolve(_ host: String, port: Int, type: Int32) throws -> (sockaddr_storage, socklen_t, Int32) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = type
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw WireError(.dataPlane, "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(result) }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { dst in
            dst.copyMemory(
                from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        }
        return (storage, first.pointee.ai_addrlen, first.pointee.ai_family)
    }

    /// A socket bound to `host` on `port` (0: any free port); listening for TCP.
    static func bound(host: String, port: Int, type: Int32) throws -> Int32 {
        var (addr, len, family) = try resolve(host, port: port, type: type)
        let fd = socket(family, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw error("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
        }
        guard rc == 0 else {
            let e = error("bind \(host):\(port)")
            close(fd)
            throw e
        }
        if type == Int32(SOCK_STREAM.rawValue), listen(fd, 1024) != 0 {
            let e = error("listen")
            close(fd)
            throw e
        }
        return fd
    }

    /// A socket connected to `endpoint`; TCP gets `TCP_NODELAY` when `noDelay` (request/response
    /// traffic; bulk senders leave Nagle on so a write's tail does not go out as a runt segment).
    /// Fails after `timeoutMs`.
    static func connected(to endpoint: Endpoint, type: Int32, noDelay: Bool = true, timeoutMs: Int32 = 3000) throws
        -> Int32
    {
        var (addr, len, family) = try resolve(endpoint.host, port: endpoint.port, type: type)
        let fd = socket(family, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw error("socket") }
        if type == Int32(SOCK_STREAM.rawValue) {
            setSendTimeout(fd, ms: Int(timeoutMs))
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, len) }
        }
        guard rc == 0 else {
            let e = error("connect \(endpoint)")
            close(fd)
            throw e
        }
        if type == Int32(SOCK_STREAM.rawValue) {
            if noDelay {
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            setSendTimeout(fd, ms: 0)
        }
        return fd
    }

    /// The port a bound socket got.
    static func localPort(_ fd: Int32) -> Int {
        var addr = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return withUnsafeBytes(of: &addr) { raw in
            // sin_port and sin6_port sit at the same offset, in network order.
            Int(UInt16(raw[2]) << 8 | UInt16(raw[3]))
        }
    }

    /// Sets `SO_RCVTIMEO` (0: wait forever).
    static func setReceiveTimeout(_ fd: Int32, ns: Int64) {
        var tv = timeval(tv_sec: Int(ns / 1_000_000_000), tv_usec: Int((ns % 1_000_000_000) / 1000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sets `SO_SNDTIMEO` (0: wait forever).
    static func setSendTimeout(_ fd: Int32, ms: Int) {
        var tv = timeval(tv_sec: ms / 1000, tv_usec: (ms % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Whether the last call failed only because its timeout passed or a signal came.
    @inline(__always)
    static var wouldBlock: Bool { errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR }
}

/// Outcome of a blocking transfer.
enum TransferResult {
    case done
    /// The peer closed the connection.
    case closed
    /// The receive timeout passed with `progress` bytes of the message transferred.
    case timedOut(progress: Int)
    /// A socket error (`errno` is set).
    case failed
}

extension Socket {
    /// Receives exactly `count` bytes starting `offset` bytes in; returns on timeout with the progress made.
    @inline(__always)
    static func receiveAll(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, count: Int, offset: Int = 0)
        -> TransferResult
    {
        var got = offset
        while got < count {
            let n = recv(fd, buffer + got, count - got, 0)
            if n > 0 {
                got += n
            } else if n == 0 {
                return .closed
            } else if wouldBlock {
                return .timedOut(progress: got)
            } else {
                return .failed
            }
        }
        return .done
    }

    /// Sends exactly `count` bytes.
    @inline(__always)
    static func sendAll(_ fd: Int32, _ buffer: UnsafeRawPointer, count: Int) -> TransferResult {
        var sent = 0
        while sent < count {
            let n = send(fd, buffer + sent, count - sent, Int32(MSG_NOSIGNAL))
            if n > 0 {
                sent += n
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                return .timedOut(progress: sent)
            } else {
                return n == 0 ? .closed : .failed
            }
        }
        return .done
    }
}
