import CLockstepSys
import Crypto
import Shared
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Answers clock probes on a UDP port of the control address, on a thread of its own with a
/// blocking receive: `t1` is the kernel's receive timestamp (SO_TIMESTAMPNS, moved onto
/// CLOCK_MONOTONIC), `t2` is read after everything of the reply but the MAC's last block is computed,
/// and the kernel's transmit stamp of each reply goes out in the next one (interleaved mode). Only probes under the current
/// session's key are answered, each sequence number once and in increasing order, at most
/// `ratePerSecond` a second; the rest are dropped and counted.
final class ProbeResponder: @unchecked Sendable {
    /// The UDP port, announced in the agent's hello.
    let port: Int
    private let fd: Int32
    private let session = Mutex<(key: ProbeKey, last: UInt64)?>(nil)
    private let droppedCount = Atomic<UInt64>(0)
    private let answeredCount = Atomic<UInt64>(0)
    static let ratePerSecond = 5000

    /// Binds `host` on the control port's number if free, else any port.
    init(host: String, preferredPort: Int) throws {
        var bound: Int32 = -1
        for port in [preferredPort, 0] {
            if let fd = try? Socket.bound(host: host, port: port, type: Int32(SOCK_DGRAM.rawValue)) {
                bound = fd
                break
            }
        }
        guard bound >= 0 else { throw WireError(.unreachable, "cannot bind a UDP probe port on \(host)") }
        fd = bound
        port = Socket.localPort(bound)
        _ = lockstep_enable_rx_timestamps(bound)
        _ = EngineThread(name: "clock-probes") { [self] in serve() }
    }

    /// Probes under `key` are answered from now on (a new session).
    func activate(_ key: ProbeKey) { session.withLock { $0 = (key, 0) } }

    /// No probe is answered (the session ended).
    func deactivate() { session.withLock { $0 = nil } }

    /// Probes dropped: forged, replayed, out of order, malformed, or over the rate.
    var dropped: UInt64 { droppedCount.load(ordering: .relaxed) }
    /// Probes answered.
    var answered: UInt64 { answeredCount.load(ordering: .relaxed) }

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 512)
        var from = sockaddr_storage()
        var windowStart = MonotonicClock.now()
        var inWindow = 0
        let txStamps = lockstep_enable_tx_timestamps(fd) == 0
        var sent: UInt32 = 0
        // The previous reply of the current session and its kernel transmit stamp (interleaved).
        var previous: (key: ProbeKey, sequence: UInt64, t2: Int64)?
        while true {
            var fromLen = UInt32(MemoryLayout<sockaddr_storage>.size)
            var t1: Int64 = 0
            var kernel: Int32 = 0
            let n = buffer.withUnsafeMutableBytes { raw in
                withUnsafeMutablePointer(to: &from) {
                    lockstep_recv_stamped(fd, raw.baseAddress, UInt(raw.count), &t1, &kernel, $0, &fromLen)
                }
            }
            guard n > 0 else {
                if n == -Int(EBADF) { return }
                continue
            }
            let now = MonotonicClock.now()
            if now - windowStart > 1_000_000_000 {
                windowStart = now
                inWindow = 0
            }
            inWindow += 1
            guard inWindow <= Self.ratePerSecond, let (key, last) = session.withLock({ $0 }),
                let probe = ProbePacket(bytes: buffer[0..<Int(n)], key: key), probe.kind == .probe,
                probe.sequence > last
            else {
                droppedCount.add(1, ordering: .relaxed)
                continue
            }
            session.withLock { current in
                if current?.key == key { current?.last = probe.sequence }
            }
            let earlier = previous?.key == key ? previous : nil
            let reply = ProbePacket(
                kind: .reply, sequence: probe.sequence, t0: probe.t0, t1: t1, kernelReceive: kernel != 0,
                previousSequence: earlier?.sequence ?? 0, previousT2: earlier?.t2 ?? 0)
            // t2 is read after all but the MAC's last block is computed: as close to the send as it can be.
            let bytes = reply.encoded(key: key, stampingLast: { MonotonicClock.now() }).bytes
            var tx: Int64 = 0
            var kernelTx: Int32 = 0
            let written = bytes.withUnsafeBytes { raw in
                withUnsafePointer(to: &from) {
                    lockstep_send_stamped(fd, raw.baseAddress, UInt(raw.count), $0, fromLen, sent, &tx, &kernelTx)
                }
            }
            if written > 0 { sent &+= 1 }
            // The kernel's stamp of this reply travels in the next one; a user-space reading does not.
            previous = (key, probe.sequence, txStamps && kernelTx != 0 ? tx : 0)
            answeredCount.add(1, ordering: .relaxed)
        }
    }
}
