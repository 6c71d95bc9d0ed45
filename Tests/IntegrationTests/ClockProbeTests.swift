import CLockstepSys
import Crypto
import Foundation
import Shared
import Synchronization
import TestSupport
import Testing

@testable import Agent
@testable import Coordinator

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

        @Test func forgedReplayedAndAlteredPacketsChangeNothing() async throws {
            let responder = try ProbeResponder(host: "127.0.0.1", preferredPort: 0)
            responder.activate(Self.key)
            let relay = ForgingRelay(to: responder.port, key: Self.key)
            let client = UDPProbeClient(host: "127.0.0.1", port: relay.port, key: Self.key, count: 32)
            let (result, last) = await client.run(from: 0)
            relay.finish()
            // 33 probes (one more for the last interleaved stamp), each answered once; each replayed
            // probe dropped. Every exchange but the last got its agent's kernel send stamp.
            #expect(last == 33)
            #expect(responder.answered == 33)
            #expect(responder.dropped == 33)
            #expect(result.exchanges.count == 32)
            #expect(result.stamps.t2 == .kernelSoftwareSend)
            let estimate = try #require(ClockEstimate(exchanges: result.exchanges))
            // One process, one clock: the true offset is zero.
            #expect(abs(estimate.offsetNs) <= estimate.errorNs, "offset \(estimate.offsetNs) ± \(estimate.errorNs)")
            #expect(estimate.errorNs < 1_000_000, "a forged reply moved by 1 s was taken")
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
                try jsonObject(out + "/run.json")
            let methods = (info["agents"] as? [[String: Any]])?.compactMap {
                ($0["clock"] as? [String: Any])?["method"] as? String
            }
            #expect(methods == ["control-channel", "control-channel"], "\(methods ?? [])")
        }
    }
}

/// A relay between the coordinator's probe client and a real responder that, for every
/// probe, replays it to the agent and sends the client three bad replies before the genuine one:
/// one under another key moved by a second, a replay of the previous genuine reply, and the
/// genuine reply with `t1` altered. None of them may move the estimate or cost an exchange.
private final class ForgingRelay: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    private let upstream: Int32
    private let key: ProbeKey
    private let stop = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    init(to responderPort: Int, key: ProbeKey) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        let upstream = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: bound.sin_port))
        addr.sin_port = in_port_t(UInt16(responderPort).bigEndian)
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        for s in [fd, upstream] {
            setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
        self.fd = fd
        self.upstream = upstream
        self.port = port
        self.key = key
        Thread { [self] in relay() }.start()
    }

    func finish() {
        stop.store(true, ordering: .relaxed)
        done.wait()
        close(fd)
        close(upstream)
    }

    private func relay() {
        defer { done.signal() }
        var buffer = [UInt8](repeating: 0, count: 512)
        var client = sockaddr_storage()
        var previous: [UInt8]?
        while !stop.load(ordering: .relaxed) {
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = buffer.withUnsafeMutableBytes { raw in
                withUnsafeMutablePointer(to: &client) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(fd, raw.baseAddress, raw.count, 0, $0, &length)
                    }
                }
            }
            guard n > 0 else { continue }
            let probe = Array(buffer[0..<n])
            for _ in 0..<2 { _ = probe.withUnsafeBytes { send(upstream, $0.baseAddress, $0.count, 0) } }
            let m = buffer.withUnsafeMutableBytes { recv(upstream, $0.baseAddress, $0.count, 0) }
            guard m > 0 else { continue }
            let genuine = Array(buffer[0..<m])
            var forged = genuine
            if let decoded = ProbePacket(bytes: genuine, key: key) {
                var moved = decoded
                moved.t1 += 1_000_000_000
                forged = moved.encoded(key: ProbeKey.random())
            }
            var altered = genuine
            altered[25] ^= 0x40
            for bytes in [forged, previous ?? forged, altered, genuine] {
                _ = bytes.withUnsafeBytes { raw in
                    withUnsafePointer(to: &client) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(fd, raw.baseAddress, raw.count, 0, $0, length)
                        }
                    }
                }
            }
            previous = genuine
        }
    }
}
