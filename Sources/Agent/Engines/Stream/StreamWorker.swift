import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// What bulk streams measure: bytes received (or, on a sending side, sent) inside the window,
/// retransmissions of the senders.
struct StreamTally: LoadTally {
    var bytes: UInt64 = 0
    var retransmits: UInt64 = 0

    mutating func add(_ other: StreamTally) {
        bytes &+= other.bytes
        retransmits &+= other.retransmits
    }
}

/// One bulk stream's thread: sends or receives with one buffer allocated up front. Fields are read by
/// the supervisor after joining the thread; only the progress counter is shared while it runs.
final class StreamWorker: LoadWorker, @unchecked Sendable {
    let fd: Int32
    private let bufferSize: Int
    private let rateBitsPerSecond: Int64?
    /// Whether this side sends (else it receives).
    private let sends: Bool
    private(set) var windowBytes: UInt64 = 0
    private(set) var retransmits: UInt64 = 0
    /// CPU time of this thread from the window's start to its end.
    private(set) var cpuNs: Int64 = 0
    private var cpuAtWindow: Int64 = 0
    private(set) var stoppedNs: Int64 = 0
    private(set) var error: WireError?
    /// Bytes this worker moved so far (for the stall watchdog).
    private let moved = ProgressCounter()
    private let exited = StopFlag()
    private let stalled = StopFlag()
    var progressCount: UInt64 { moved.current }
    var tally: StreamTally { StreamTally(bytes: windowBytes, retransmits: retransmits) }
    var sampleCounters: IntervalSampler.Counters { IntervalSampler.Counters(bytes: moved.current) }

    func run(startNs: Int64, windowStart: Int64, windowEnd: Int64, index: Int, stop: StopFlag) {
        waitForStart(startNs, spin: index == 0)
        if sends {
            send(windowStart: windowStart, until: windowEnd, stop: stop)
        } else {
            receive(windowStart: windowStart, windowEnd: windowEnd, stop: stop)
        }
        if cpuAtWindow != 0 { cpuNs = EngineThread.cpuNs() - cpuAtWindow }
    }
    var hasExited: Bool { exited.isRaised }

    /// No byte moved for the stall timeout: fail the stream and wake its blocked call.
    func markStalled() {
        stalled.raise()
        _ = shutdown(fd, Int32(SHUT_RDWR))
    }

    /// When the worker really started (0 until then).
    private let startedAt = ProgressCounter()

    /// Sleeps until the start instant (spinning the last stretch if `spin`) and records when it woke.
    func waitForStart(_ atNs: Int64, spin: Bool) {
        startedAt.publish(
            UInt64(MonotonicClock.sleepThenSpin(until: atNs, spinNs: spin ? MonotonicClock.startSpinNs : 0)))
    }

    /// Waits until the worker has started; its start instant.
    func awaitStart() -> Int64 {
        while startedAt.current == 0 { usleep(20) }
        return Int64(startedAt.current)
    }

    /// Time without a byte after which a stream counts as stalled.
    static let stallNs: Int64 = 3_000_000_000

    init(fd: Int32, bufferSize: Int, rateBitsPerSecond: Int64?, sends: Bool) {
        self.fd = fd
        self.bufferSize = bufferSize
        self.rateBitsPerSecond = rateBitsPerSecond
        self.sends = sends
    }

    /// Sends until `end`, then closes the write side so the receiver sees the end of the stream.
    func send(windowStart: Int64, until end: Int64, stop: StopFlag) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0x5A, count: bufferSize)
        let retransmitsBefore = Self.totalRetransmits(fd)
        let begin = MonotonicClock.now()
        var sent: UInt64 = 0
        defer { exited.raise() }
        while true {
            let now = MonotonicClock.now()
            if now >= end || stop.isRaised { break }
            if cpuAtWindow == 0 && now >= windowStart { cpuAtWindow = EngineThread.cpuNs() }
            if let rate = rateBitsPerSecond {
                let allowed = Double(rate) / 8 * Double(now - begin) / 1e9
                if Double(sent) > allowed {
                    let aheadNs = (Double(sent) - allowed) * 8 / Double(rate) * 1e9
                    MonotonicClock.sleepThenSpin(until: min(end, now + Int64(aheadNs)), spinNs: 0)
                    continue
                }
            }
            let n = Glibc.send(fd, buffer, bufferSize, Int32(MSG_NOSIGNAL))
            if n > 0 {
                sent &+= UInt64(n)
                moved.publish(sent)
                if now >= windowStart { windowBytes &+= UInt64(n) }
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                if stalled.isRaised {
                    error = WireError(.dataPlaneStalled, "data plane stalled: nothing could be sent for 3 s")
                } else if !stop.isRaised {
                    error = Socket.error("send on bulk stream")
                }
                break
            }
        }
        stoppedNs = MonotonicClock.now()
        retransmits = Self.totalRetransmits(fd) &- retransmitsBefore
        shutdown(fd, Int32(SHUT_WR))
    }

    /// Receives until the sender closes; counts bytes that arrive inside the window.
    func receive(windowStart: Int64, windowEnd: Int64, stop: StopFlag) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        var received: UInt64 = 0
        defer { exited.raise() }
        while true {
            let n = recv(fd, buffer, bufferSize, 0)
            if n > 0 {
                let now = MonotonicClock.now()
                received &+= UInt64(n)
                moved.publish(received)
                if now >= windowStart && now <= windowEnd {
                    if cpuAtWindow == 0 { cpuAtWindow = EngineThread.cpuNs() }
                    windowBytes &+= UInt64(n)
                }
            } else if n == 0 {
                // The sender closed its side (the end of the stream), or the watchdog shut ours down.
                if stalled.isRaised { error = WireError(.dataPlaneStalled, "data plane stalled: no bulk data for 3 s") }
                break
            } else if errno == EINTR {
                continue
            } else {
                if stalled.isRaised {
                    error = WireError(.dataPlaneStalled, "data plane stalled: no bulk data for 3 s")
                } else if !stop.isRaised {
                    error = Socket.error("receive on bulk stream")
                }
                break
            }
        }
        stoppedNs = MonotonicClock.now()
    }

    /// The socket's total retransmitted segments (TCP_INFO), 0 if unavailable.
    static func totalRetransmits(_ fd: Int32) -> UInt64 {
        var info = tcp_info()
        var len = socklen_t(MemoryLayout<tcp_info>.size)
        guard getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, &info, &len) == 0 else { return 0 }
        return UInt64(info.tcpi_total_retrans)
    }
}
