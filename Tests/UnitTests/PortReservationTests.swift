import Foundation
import Shared
import Testing

@testable import Agent

#if canImport(Glibc)
    import Glibc
#endif

/// A netns-nat guest's published host ports are held while it lives: no server of this host (which
/// binds with SO_REUSEADDR, on loopback or any address) can get one of them meanwhile.
@Suite struct PortReservationTests {
    @Test func reservedPortsCannotBeBoundUntilReleased() throws {
        var reservation: PortReservation? = try PortReservation(count: 5, udp: [1])
        let ports = reservation!.ports
        #expect(ports.count == 5 && Set(ports).count == 5)
        for (i, port) in ports.enumerated() {
            #expect(throws: WireError.self) {
                try Socket.bound(host: "127.0.0.1", port: port, type: Int32(SOCK_STREAM.rawValue))
            }
            if i == 1 {
                #expect(throws: WireError.self) {
                    try Socket.bound(host: "127.0.0.1", port: port, type: Int32(SOCK_DGRAM.rawValue))
                }
            }
        }
        reservation = nil
        let fd = try Socket.bound(host: "127.0.0.1", port: ports[0], type: Int32(SOCK_STREAM.rawValue))
        close(fd)
    }
}
