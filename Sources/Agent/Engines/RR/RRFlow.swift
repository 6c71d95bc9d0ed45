import Histogram
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// What RR flows measure inside the window.
struct RRTally: LoadTally {
    var histogram = HistogramSnapshot.makeLatencyHistogram()
    var transactions: UInt64 = 0
    var lost: UInt64 = 0
    var oneWay: OneWayTally?

    mutating func add(_ other: RRTally) {
        histogram.add(other.histogram)
        transactions &+= other.transactions
        lost &+= other.lost
        if let theirs = other.oneWay {
            if oneWay == nil { oneWay = theirs } else { oneWay!.add(theirs) }
        }
    }
}

/// The window's round trips split by the SUT's stamps: the request's flight, the SUT's time, the
/// response's flight (``RROneWay``).
struct OneWayTally {
    var request = HistogramSnapshot.makeLatencyHistogram()
    var sut = HistogramSnapshot.makeLatencyHistogram()
    var response = HistogramSnapshot.makeLatencyHistogram()
    /// The SUT's clock minus this peer's.
    let sutClockOffsetNs: Int64
    var clamped: UInt64 = 0

    init(sutClockOffsetNs: Int64) { self.sutClockOffsetNs = sutClockOffsetNs }

    /// One transaction: sent at `t0`, answered at `t1` (this clock), received and answered by the
    /// SUT at `r0` and `r1` (its clock).
    @inline(__always)
    mutating func record(t0: Int64, t1: Int64, r0: Int64, r1: Int64) {
        let up = r0 - sutClockOffsetNs - t0
        let down = t1 - (r1 - sutClockOffsetNs)
        if up < 0 || down < 0 { clamped &+= 1 }
        request.record(UInt64(max(up, 0)))
        sut.record(UInt64(max(r1 - r0, 0)))
        response.record(UInt64(max(down, 0)))
    }

    mutating func add(_ other: OneWayTally) {
        request.add(other.request)
        sut.add(other.sut)
        response.add(other.response)
        clamped &+= other.clamped
    }

    var result: RROneWay {
        RROneWay(
            request: HistogramSnapshot(request), sut: HistogramSnapshot(sut), response: HistogramSnapshot(response),
            sutClockOffsetNs: sutClockOffsetNs, clamped: clamped)
    }
}

/// One request/response flow. Its thread owns every field but the two counters; the supervisor reads
/// the rest after joining the thread.
final class RRFlow: LoadWorker, @unchecked Sendable {
    private let fd: Int32
    private let spec: RRSpec
    private var histogram = HistogramSnapshot.makeLatencyHistogram()
    private var transactions: UInt64 = 0
    private var lost: UInt64 = 0
    /// The window's one-way delays, when responses carry the SUT's stamps and its clock is known.
    private var oneWay: OneWayTally?
    /// Open loop: this flow's intended send times (``RRSpec/rate`` split over the flows).
    private var pacer: OpenLoopPacer?
    private var late: UInt64 = 0
    /// Latencies in send order and send gaps for the validity checks (made when the thread starts).
    private(set) var recorder: LatencySeriesRecorder?
    /// CPU time of this thread from its first transaction in the window to its end.
    private(set) var cpuNs: Int64 = 0
    private var cpuAtWindow: Int64 = 0
    private(set) var stoppedNs: Int64 = 0
    private(set) var error: WireError?
    private(set) var stoppedByFlag = false
    /// Transactions completed since the start (warm-up included), for interval samples.
    let done = ProgressCounter()
    /// Transactions lost since the start.
    let lostCounter = ProgressCounter()
    /// Raised when the flow's thread is done.
    let exited = StopFlag()
    /// Raised by the ``StallWatchdog`` before it shuts the socket down.
    private let stalled = StopFlag()
    /// When the flow really started (0 until then).
    private let startedAt = ProgressCounter()
    /// The round trips of every transaction so far, added up (for the per-second mean).
    private let latencySum = ProgressCounter()

    /// A flow on the connected socket `fd`; `sutClockOffsetNs` (the SUT's clock minus this
    /// agent's) turns the SUT's stamps into one-way delays.
    init(fd: Int32, spec: RRSpec, sutClockOffsetNs: Int64? = nil) {
        self.fd = fd
        self.spec = spec
        if spec.carriesStamps, let offset = sutClockOffsetNs { oneWay = OneWayTally(sutClockOffsetNs: offset) }
    }

    /// Waits until the flow has started (it starts at its start instant; errors start it too); its start instant.
    func awaitStart() -> Int64 {
        while startedAt.current == 0 { usleep(20) }
        return Int64(startedAt.current)
    }

    var progressCount: UInt64 { done.current }
    var lateRequests: UInt64? { spec.rate == nil ? nil : late }
    var tally: RRTally { RRTally(histogram: histogram, transactions: transactions, lost: lost, oneWay: oneWay) }
    var sampleCounters: IntervalSampler.Counters {
        IntervalSampler.Counters(transactions: done.current, lost: lostCounter.current, latencyNs: latencySum.current)
    }

    func run(startNs: Int64, windowStart: Int64, windowEnd: Int64, index: Int, stop: StopFlag) {
        // Only the first flow spins for a precise start; on few cores more spinners would delay each other.
        pacer = OpenLoopPacer(
            rate: spec.rate.map { $0 / Double(spec.flows) }, startNs: startNs, index: index, count: spec.flows,
            arrivals: spec.arrivals, seed: UInt64(index + 1))
        recorder = LatencySeriesRecorder(windowStart: windowStart)
        run(startAt: startNs, spin: index == 0, windowStart: windowStart, windowEnd: windowEnd, stop: stop)
    }
    var hasExited: Bool { exited.isRaised }

    /// No response for the stall timeout: fail the flow and wake its blocked `recv`.
    func markStalled() {
        stalled.raise()
        shutdown()
    }

    func shutdown() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    func close() { _ = Glibc.close(fd) }

    /// Runs transactions from `startAt` until `windowEnd` or the stop flag. Transactions that
    /// begin inside the window count; earlier ones are warm-up.
    func run(startAt: Int64, spin: Bool, windowStart: Int64, windowEnd: Int64, stop: StopFlag) {
        let request = UnsafeMutableRawPointer.allocate(byteCount: spec.requestSize, alignment: 8)
        let response = UnsafeMutableRawPointer.allocate(byteCount: spec.responseSize, alignment: 8)
        defer {
            request.deallocate()
            response.deallocate()
            stoppedNs = MonotonicClock.now()
            if cpuAtWindow != 0 { cpuNs = EngineThread.cpuNs() - cpuAtWindow }
            exited.raise()
        }
        request.initializeMemory(as: UInt8.self, repeating: 0x61, count: spec.requestSize)
        startedAt.publish(
            UInt64(MonotonicClock.sleepThenSpin(until: startAt, spinNs: spin ? MonotonicClock.startSpinNs : 0)))
        if spec.proto == .tcp {
            // No receive timeout: it would arm a kernel timer per transaction. Stops and stalls
            // shut the socket down instead (requestStop, StallWatchdog).
            runTCP(request, response, windowStart: windowStart, windowEnd: windowEnd, stop: stop)
        } else {
            Socket.setReceiveTimeout(fd, ns: spec.lossTimeoutNs)
            runUDP(request, response, windowStart: windowStart, windowEnd: windowEnd, stop: stop)
        }
    }

    private func runTCP(
        _ request: UnsafeMutableRawPointer, _ response: UnsafeMutableRawPointer,
        windowStart: Int64, windowEnd: Int64, stop: StopFlag
    ) {
        var total: UInt64 = 0
        var latencyTotal: UInt64 = 0
        defer { countUnsent(windowStart: windowStart, windowEnd: windowEnd) }
        while true {
            guard let (t0, from) = nextSend(windowStart: windowStart, windowEnd: windowEnd, stop: stop) else { return }
            let sent = Socket.sendAll(fd, request, count: spec.requestSize)
            guard case .done = sent else { return endTCP(after: sent, "send to responder", stop: stop) }
            var result = Socket.receiveAll(fd, response, count: spec.responseSize)
            while case .timedOut(let progress) = result {  // EINTR: there is no receive timeout
                result = Socket.receiveAll(fd, response, count: spec.responseSize, offset: progress)
            }
            guard case .done = result else { return endTCP(after: result, "receive from responder", stop: stop) }
            let t1 = MonotonicClock.now()
            if t0 >= windowStart {
                if cpuAtWindow == 0 { cpuAtWindow = EngineThread.cpuNs() }
                histogram.record(UInt64(t1 - from))
                recorder?.record(sentNs: from, doneNs: t1)
                transactions &+= 1
                recordOneWay(t0: t0, t1: t1, response)
            }
            total &+= 1
            latencyTotal &+= UInt64(t1 - from)
            latencySum.publish(latencyTotal)
            done.publish(total)
        }
    }

    private func runUDP(
        _ request: UnsafeMutableRawPointer, _ response: UnsafeMutableRawPointer,
        windowStart: Int64, windowEnd: Int64, stop: StopFlag
    ) {
        var total: UInt64 = 0
        var latencyTotal: UInt64 = 0
        var lostTotal: UInt64 = 0
        var sequence: UInt64 = 0
        var lastAnswerNs = MonotonicClock.now()
        let tagged = spec.tagsSequence
        defer { countUnsent(windowStart: windowStart, windowEnd: windowEnd) }
        while true {
            guard let (t0, from) = nextSend(windowStart: windowStart, windowEnd: windowEnd, stop: stop) else { return }
            sequence &+= 1
            if tagged { request.storeBytes(of: sequence, as: UInt64.self) }
            let sent = send(fd, request, spec.requestSize, 0)
            if sent < 0 && !Socket.wouldBlock && errno != ECONNREFUSED { return fail("send to responder") }
            var answered = false
            while true {
                let n = recv(fd, response, spec.responseSize, 0)
                if n >= 0 {
                    if tagged && (n < 8 || response.loadUnaligned(as: UInt64.self) != sequence) { continue }
                    answered = true
                } else if errno == ECONNREFUSED {
                    if stop.isRaised { return }
                    return fail("responder unreachable (port closed)", errnoText: false)
                } else if !Socket.wouldBlock {
                    if stop.isRaised { stoppedByFlag = true; return }
                    return fail("receive from responder")
                }
                break
            }
            let t1 = MonotonicClock.now()
            if answered {
                lastAnswerNs = t1
                if t0 >= windowStart {
                    if cpuAtWindow == 0 { cpuAtWindow = EngineThread.cpuNs() }
                    histogram.record(UInt64(t1 - from))
                    recorder?.record(sentNs: from, doneNs: t1)
                    transactions &+= 1
                    recordOneWay(t0: t0, t1: t1, response)
                }
                total &+= 1
                latencyTotal &+= UInt64(t1 - from)
                latencySum.publish(latencyTotal)
                done.publish(total)
            } else {
                if t0 >= windowStart { lost &+= 1 }
                lostTotal &+= 1
                lostCounter.publish(lostTotal)
                if t1 - lastAnswerNs > RRClient.stallTimeoutNs {
                    error = WireError(
                        .dataPlaneStalled,
                        "data plane stalled: no UDP response for \(RRClient.stallTimeoutNs / 1_000_000_000) s")
                    return
                }
            }
        }
    }

    /// When the next transaction leaves and when its latency counts from: now, in closed loop; in
    /// open loop, after waiting for its intended time, which latency counts from (a late one is
    /// counted). `nil` once the window is over or the flow stopped.
    @inline(__always)
    private func nextSend(windowStart: Int64, windowEnd: Int64, stop: StopFlag) -> (sentNs: Int64, fromNs: Int64)? {
        guard pacer != nil else {
            let now = MonotonicClock.now()
            return now >= windowEnd || stop.isRaised ? nil : (now, now)
        }
        guard pacer!.nextNs < windowEnd, let intended = pacer!.awaitNext(stop: stop) else { return nil }
        let now = MonotonicClock.now()
        if intended >= windowStart && OpenLoopPacer.isLate(intendedNs: intended, sentNs: now) { late &+= 1 }
        recorder?.sent(now)
        return now >= windowEnd || stop.isRaised ? nil : (now, intended)
    }

    /// Open loop: the window's intended transactions that never left count as late.
    private func countUnsent(windowStart: Int64, windowEnd: Int64) {
        guard pacer != nil else { return }
        while pacer!.nextNs < windowEnd {
            if pacer!.nextNs >= windowStart { late &+= 1 }
            pacer!.advance()
        }
    }

    /// Splits a window transaction's round trip with the SUT's stamps in its response.
    @inline(__always)
    private func recordOneWay(t0: Int64, t1: Int64, _ response: UnsafeMutableRawPointer) {
        guard oneWay != nil else { return }
        let at = spec.stampOffset
        oneWay!.record(
            t0: t0, t1: t1, r0: response.loadUnaligned(fromByteOffset: at, as: Int64.self),
            r1: response.loadUnaligned(fromByteOffset: at + 8, as: Int64.self))
    }

    /// Why a TCP transfer ended early: a stall the watchdog found, a stop, or a real failure.
    private func endTCP(after result: TransferResult, _ what: String, stop: StopFlag) {
        if stalled.isRaised {
            error = WireError(
                .dataPlaneStalled,
                "data plane stalled: no TCP response for \(RRClient.stallTimeoutNs / 1_000_000_000) s")
        } else if stop.isRaised {
            stoppedByFlag = true
        } else if case .closed = result {
            fail("responder closed the connection", errnoText: false)
        } else {
            fail(what)
        }
    }

    private func fail(_ what: String, errnoText: Bool = true) {
        error = errnoText ? Socket.error(what) : WireError(.dataPlane, what)
    }
}
