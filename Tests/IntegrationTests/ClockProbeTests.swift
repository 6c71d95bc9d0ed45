import CLockstepSys
import Crypto
import Foundation
import Shared
import Testing

@testable import Agent

#if canImport(Glibc)
    import Glibc
#endif

extension Integration {
    /// The dedicated clock-probe path: only the session's key is answered, each probe once; with UDP
    /// blocked, clock sync falls back to the control connection and says so.
    @Suite struct ClockProbeTests {
        static let key = ProbeKey.random()

        /// Sends `bytes` to the responder and returns the reply, if one comes within 200 ms.
        static func ask(_ port: Int, _ bytes: [UInt8]) -> [UInt8]? {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(fd) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            var tv = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            _ = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return n > 0 ? Array(buffer[0..<n]) : nil
        }

        @Test func onlyTheSessionsKeyIsAnsweredEachProbeOnceAndStampedByTheKernel() throws {
            let responder = try ProbeResponder(host: "127.0.0.1", preferredPort: 0)
            let probe = ProbePacket(kind: .probe, sequence: 1, t0: MonotonicClock.now()).encoded(key: Self.key)
            #expect(Self.ask(responder.port, probe) == nil, "answered with no session")
            responder.activate(Self.key)
            let answer = try #require(Self.ask(responder.port, probe))
            let reply = try #require(ProbePacket(bytes: answer, key: Self.key))
            #expect(reply.kind == .reply && reply.sequence == 1)
            #expect(reply.t1 <= reply.t2 && reply.t2 <= MonotonicClock.now())
            // A replay, an older sequence, another key, a reply sent as a probe: all dropped.
            let dropped = responder.dropped
            #expect(Self.ask(responder.port, probe) == nil)
            let forged = ProbePacket(kind: .probe, sequence: 9, t0: 0).encoded(key: ProbeKey.random())
            #expect(Self.ask(responder.port, forged) == nil)
            #expect(
                Self.ask(responder.port, ProbePacket(kind: .reply, sequence: 10, t0: 0).encoded(key: Self.key)) == nil)
            #expect(responder.dropped == dropped + 3)
            #expect(responder.answered == 1)
            // The next sequence is answered; after the session, nothing is.
            #expect(
                Self.ask(responder.port, ProbePacket(kind: .probe, sequence: 2, t0: 0).encoded(key: Self.key)) != nil)
            responder.deactivate()
            #expect(
                Self.ask(responder.port, ProbePacket(kind: .probe, sequence: 3, t0: 0).encoded(key: Self.key)) == nil)
        }

        @Test func withUDPBlockedClockSyncFallsBackToTheControlConnection() throws {
            // A namespace of the test's own, with an nft rule that drops every UDP packet.
            let ns = "lockstep-probe-\(getpid() % 100_000)"
            func ip(_ args: [String]) { _ = DockerEngine.lines("/usr/sbin/ip", args) }
            ip(["netns", "add", ns])
            defer { ip(["netns", "del", ns]) }
            ip(["-n", ns, "link", "set", "lo", "up"])
            _ = DockerEngine.lines(
                "/usr/sbin/ip",
                [
                    "netns", "exec", ns, "nft",
                    "add table ip lsdrop; add chain ip lsdrop input { type filter hook input priority 0 ; } ; add rule ip lsdrop input meta l4proto udp drop",
                ])
            let scratch = Scratch()
            let token = try scratch.token().path
            let inNS = ["/usr/sbin/ip", "netns", "exec", ns]
            var agents: [ChildProcess] = []
            for (name, port) in [("sut", 7481), ("peer", 7482)] {
                agents.append(
                    try ChildProcess(
                        Binaries.agent,
                        ["serve", "--listen", "127.0.0.1:\(port)", "--token-file", token, "--name", name],
                        prefix: inNS, scratch: scratch, label: name))
            }
            defer { agents.forEach { $0.terminate(signal: SIGKILL) } }
            Thread.sleep(forTimeInterval: 1)
            let out = scratch.path + "/run"
            let run = try ChildProcess(
                Binaries.coordinator,
                [
                    "rr", "--sut", "127.0.0.1:7481", "--peer", "127.0.0.1:7482", "--token-file", token, "--protocol",
                    "tcp", "--duration", "1s", "--warmup", "0.2s", "--out", out,
                ], prefix: inNS, scratch: scratch, label: "rr")
            #expect(run.wait(seconds: 60) == 0, "\(run.stderr)")
            let info =
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/run.json")))
                as! [String: Any]
            let methods = (info["agents"] as? [[String: Any]])?.compactMap {
                ($0["clock"] as? [String: Any])?["method"] as? String
            }
            #expect(methods == ["control-channel", "control-channel"], "\(methods ?? [])")
        }
    }
}
