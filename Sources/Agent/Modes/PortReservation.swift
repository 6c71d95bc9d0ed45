import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// Host ports a guest's published ports use, held by sockets of the host agent for as long as the
/// guest lives. The DNAT rules take every packet to those ports before any local socket sees it,
/// so the sockets never receive anything; they keep the kernel from handing the same port to
/// another `bind(0)` on this host (a native step's server in the same run once got one of them, and
/// its peer's connection was translated into the guest's namespace and refused).
/// The container modes take only ``ports`` and let the reservation go at once: docker-proxy, or the
/// guest itself, must bind those ports next; they were free for TCP and (where asked) UDP then.
final class PortReservation: Sendable {
    /// The reserved ports, in the order asked for.
    let ports: [Int]
    private let fds: [Int32]

    /// `count` free TCP ports on every address; those at `udp` indices are reserved for UDP too.
    init(count: Int, udp: Set<Int> = []) throws {
        var ports: [Int] = []
        var fds: [Int32] = []
        var attempts = 0
        while ports.count < count {
            attempts += 1
            guard attempts < 64 else {
                fds.forEach { _ = close($0) }
                throw WireError(.modeFailed, "cannot reserve \(count) host ports for a guest's published ports")
            }
            guard let tcp = Self.bind(port: 0, type: Int32(SOCK_STREAM.rawValue)) else { continue }
            let port = Socket.localPort(tcp)
            if udp.contains(ports.count) {
                guard let u = Self.bind(port: port, type: Int32(SOCK_DGRAM.rawValue)) else {
                    _ = close(tcp)
                    continue
                }
                fds.append(u)
            }
            fds.append(tcp)
            ports.append(port)
        }
        self.ports = ports
        self.fds = fds
    }

    deinit { fds.forEach { _ = close($0) } }

    /// A socket bound to 0.0.0.0:`port` without SO_REUSEADDR (no other socket may share the port).
    private static func bind(port: Int, type: Int32) -> Int32? {
        let fd = socket(AF_INET, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = INADDR_ANY
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            _ = close(fd)
            return nil
        }
        return fd
    }
}

extension GuestPorts {
    /// The indices in ``all`` of the ports published for UDP too (``udp``), as
    /// ``PortReservation/init(count:udp:)`` takes them.
    var udpIndices: Set<Int> { Set(all.indices.filter { udp.contains(all[$0]) }) }
}
