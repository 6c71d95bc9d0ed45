import CLockstepSys
import Crypto
import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// The coordinator's side of the dedicated clock-probe path: a UDP socket on a thread of its own,
/// `t0` read just before each send, `t3` the kernel's receive timestamp of the reply. Probes are
/// spread over `count × spacing`; a reply that does not come within `timeout` is skipped.
struct UDPProbeClient: Sendable {
    let host: String
    let port: Int
    let key: ProbeKey
    var count = 64
    var spacingNs: Int64 = 1_000_000
    var timeoutNs: Int64 = 20_000_000

    /// The exchanges that were answered, and whether every `t3` was a kernel timestamp.
    struct Result: Sendable {
        var exchanges: [ClockExchange]
        var kernelStamps: Bool
    }

    /// Runs the exchange on a dedicated thread; `sequence` is the session's last probe number (updated).
    func run(from sequence: UInt64) async -> (Result, UInt64) {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: exchange(from: sequence)) }
            thread.name = "clock-probes"
            thread.start()
        }
    }

    private func exchange(from first: UInt64) -> (Result, UInt64) {
        var result = Result(exchanges: [], kernelStamps: true)
        var sequence = first
        guard let fd = connectedSocket() else { return (result, sequence) }
        defer { close(fd) }
        _ = lockstep_enable_rx_timestamps(fd)
        var buffer = [UInt8](repeating: 0, count: 512)
        for _ in 0..<count {
            sequence += 1
            let t0 = MonotonicClock.now()
            let bytes = ProbePacket(kind: .probe, sequence: sequence, t0: t0).encoded(key: key)
            guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else { continue }
            let deadline = t0 + timeoutNs
            while MonotonicClock.now() < deadline {
                var t3: Int64 = 0
                var kernel: Int32 = 0
                let n = buffer.withUnsafeMutableBytes {
                    lockstep_recv_stamped(fd, $0.baseAddress, UInt($0.count), &t3, &kernel, nil, nil)
                }
                guard n > 0 else { break }  // the receive timeout: this probe is lost
                guard let reply = ProbePacket(bytes: buffer[0..<Int(n)], key: key), reply.kind == .reply,
                    reply.sequence == sequence, reply.t0 == t0
                else { continue }  // a late reply to an earlier probe, or noise
                if kernel == 0 { result.kernelStamps = false }
                result.exchanges.append(ClockExchange(t0: t0, t1: reply.t1, t2: reply.t2, t3: t3))
                break
            }
            MonotonicClock.sleepThenSpin(until: t0 + spacingNs, spinNs: 0)
        }
        return (result, sequence)
    }

    /// A UDP socket connected to the agent's probe port, with the receive timeout set.
    private func connectedSocket() -> Int32? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let info = list else { return nil }
        defer { freeaddrinfo(list) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            close(fd)
            return nil
        }
        var tv = timeval(tv_sec: 0, tv_usec: Int(timeoutNs / 1000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }
}
