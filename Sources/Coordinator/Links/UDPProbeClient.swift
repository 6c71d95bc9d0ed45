import CLockstepSys
import Crypto
import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// The coordinator's side of the dedicated clock-probe path: a UDP socket on a thread of its own;
/// `t0` is the kernel's transmit timestamp of each probe (SO_TIMESTAMPING, software) where the kernel
/// gives one, else a clock read just before the send; `t3` is the kernel's receive timestamp of the
/// reply; `t2` is the agent kernel's transmit stamp of its reply, which arrives in the next reply
/// (interleaved: one probe more than `count` is sent, and when the agent sends such stamps only
/// the exchanges that got one are kept). Probes are spread over `count × spacing`; a reply that
/// does not come within `timeout` is skipped.
struct UDPProbeClient: Sendable {
    let host: String
    let port: Int
    let key: ProbeKey
    var count = 64
    var spacingNs: Int64 = 2_000_000
    var timeoutNs: Int64 = 20_000_000

    /// The exchanges that were answered, and where their four times came from.
    struct Result: Sendable {
        var exchanges: [ClockExchange]
        /// Every `t0` was the kernel's transmit stamp.
        var kernelSend = true
        /// Every `t1` was the agent kernel's receive stamp.
        var agentKernelReceive = true
        /// Every `t2` was the agent kernel's transmit stamp (interleaved).
        var agentKernelSend = false
        /// Every `t3` was the kernel's receive stamp.
        var kernelReceive = true

        /// Where each of t0..t3 came from, for run.json.
        var stamps: ClockStamps {
            ClockStamps(
                t0: kernelSend ? .kernelSoftwareSend : .userBeforeSend,
                t1: agentKernelReceive ? .kernelSoftwareReceive : .userAfterReceive,
                t2: agentKernelSend ? .kernelSoftwareSend : .userBeforeSend,
                t3: kernelReceive ? .kernelSoftwareReceive : .userAfterReceive)
        }
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
        var result = Result(exchanges: [])
        var sequence = first
        guard let fd = connectedSocket() else { return (result, sequence) }
        defer { close(fd) }
        _ = lockstep_enable_rx_timestamps(fd)
        let txStamps = lockstep_enable_tx_timestamps(fd) == 0
        var sent: UInt32 = 0
        var buffer = [UInt8](repeating: 0, count: 512)
        var exchanges: [UInt64: ClockExchange] = [:]
        var order: [UInt64] = []
        var interleaved: Set<UInt64> = []
        for _ in 0...count {
            sequence += 1
            let begun = MonotonicClock.now()
            let bytes = ProbePacket(kind: .probe, sequence: sequence, t0: begun).encoded(key: key)
            var t0: Int64 = 0
            var kernelT0: Int32 = 0
            let n = bytes.withUnsafeBytes {
                lockstep_send_stamped(fd, $0.baseAddress, UInt($0.count), nil, 0, sent, &t0, &kernelT0)
            }
            sent &+= 1
            guard n == bytes.count else { continue }
            let deadline = begun + timeoutNs
            while MonotonicClock.now() < deadline {
                var t3: Int64 = 0
                var kernel: Int32 = 0
                let n = buffer.withUnsafeMutableBytes {
                    lockstep_recv_stamped(fd, $0.baseAddress, UInt($0.count), &t3, &kernel, nil, nil)
                }
                guard n > 0 else { break }  // the receive timeout: this probe is lost
                guard let reply = ProbePacket(bytes: buffer[0..<Int(n)], key: key), reply.kind == .reply,
                    reply.sequence == sequence, reply.t0 == begun
                else { continue }  // a late reply to an earlier probe, or noise
                if kernel == 0 { result.kernelReceive = false }
                if kernelT0 == 0 || !txStamps { result.kernelSend = false }
                if !reply.kernelReceive { result.agentKernelReceive = false }
                exchanges[sequence] = ClockExchange(t0: t0, t1: reply.t1, t2: reply.t2, t3: t3)
                order.append(sequence)
                // The agent's kernel stamp of its previous reply: later than that reply's own `t2`
                // (read before the send) and still before its departure, so the exchange narrows.
                if reply.previousT2 != 0, var earlier = exchanges[reply.previousSequence],
                    reply.previousT2 >= earlier.t2
                {
                    earlier.t2 = reply.previousT2
                    if earlier.roundTripNs >= 0 {
                        exchanges[reply.previousSequence] = earlier
                        interleaved.insert(reply.previousSequence)
                    }
                }
                break
            }
            MonotonicClock.sleepThenSpin(until: begun + spacingNs, spinNs: 0)
        }
        result.agentKernelSend = !interleaved.isEmpty
        result.exchanges = order.filter { interleaved.isEmpty || interleaved.contains($0) }.compactMap { exchanges[$0] }
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
