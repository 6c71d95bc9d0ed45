import CLockstepSys
import Histogram
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// What Redis workers count inside the window.
struct RedisTally: LoadTally {
    var histogram = HistogramSnapshot.makeLatencyHistogram()
    var gets: UInt64 = 0
    var sets: UInt64 = 0
    var hits: UInt64 = 0
    var misses: UInt64 = 0
    var mismatches: UInt64 = 0
    var errors: UInt64 = 0

    mutating func add(_ other: RedisTally) {
        histogram.add(other.histogram)
        gets &+= other.gets
        sets &+= other.sets
        hits &+= other.hits
        misses &+= other.misses
        mismatches &+= other.mismatches
        errors &+= other.errors
    }
}

/// One load-generator thread: drives its share of the connections with epoll. Each connection
/// keeps `pipeline` requests in flight; as replies free slots, new requests go out in one write.
/// Counters cover replies that arrive inside the window; latency runs from the request's write
/// to the read that brought its reply. Fields are read by the engine after the thread is joined.
final class RedisWorker: LoadWorker, @unchecked Sendable {
    private let connections: [RedisConnection]
    private let keys: RedisKeySpace
    private let target: Endpoint
    private var rng: SplitMix64
    private let progress = ProgressCounter()
    /// Every reply's latency so far, added up (for the per-second mean), published with `progress`.
    private let latencySum = ProgressCounter()
    private var latencyTotal: UInt64 = 0
    private let exited = StopFlag()
    private let stalled = StopFlag()

    private(set) var histogram = HistogramSnapshot.makeLatencyHistogram()
    private(set) var gets: UInt64 = 0
    private(set) var sets: UInt64 = 0
    private(set) var hits: UInt64 = 0
    private(set) var misses: UInt64 = 0
    private(set) var mismatches: UInt64 = 0
    private(set) var errors: UInt64 = 0
    /// CPU time this thread used inside the window, nanoseconds.
    private(set) var cpuNs: Int64 = 0
    private(set) var stoppedNs: Int64 = 0
    private(set) var error: WireError?
    private var stopOnFailure: StopFlag?
    /// Open loop: this thread's requests per second, its place among the threads and the late count.
    private let rate: Double?
    private let place: (index: Int, count: Int)
    private var late: UInt64 = 0
    /// Latencies in send order and send gaps for the validity checks (made when the thread starts).
    private(set) var recorder: LatencySeriesRecorder?
    /// How long the server may answer nothing before the step fails (``RedisLoadGenerator/stallTimeoutNs``), seconds.
    var stallSeconds = 3
    /// How long the worker waits for replies still in flight after the window.
    static let drainNs: Int64 = 2_000_000_000
    /// The epoll tag of the open loop's timer (connections are tagged by their index).
    private static let timerTag = UInt64.max

    /// A thread driving `connections`; `rate` (its share, per second) makes it open loop.
    init(
        connections: [RedisConnection], keys: RedisKeySpace, target: Endpoint, seed: UInt64, rate: Double? = nil,
        index: Int = 0, of count: Int = 1
    ) {
        self.connections = connections
        self.keys = keys
        self.target = target
        rng = SplitMix64(seed: seed)
        self.rate = rate
        place = (index, count)
    }

    var lateRequests: UInt64? { rate == nil ? nil : late }

    var progressCount: UInt64 { progress.current }
    var hasExited: Bool { exited.isRaised }
    var sampleCounters: IntervalSampler.Counters {
        IntervalSampler.Counters(transactions: progress.current, latencyNs: latencySum.current)
    }
    var tally: RedisTally {
        RedisTally(
            histogram: histogram, gets: gets, sets: sets, hits: hits, misses: misses, mismatches: mismatches,
            errors: errors)
    }

    func run(startNs: Int64, windowStart: Int64, windowEnd: Int64, index: Int, stop: StopFlag) {
        // The first worker spins into the start instant; the others sleep to it.
        run(startNs: startNs, windowStart: windowStart, windowEnd: windowEnd, spin: index == 0, stop: stop)
    }

    func markStalled() {
        stalled.raise()
        connections.forEach { _ = shutdown($0.fd, Int32(SHUT_RDWR)) }
    }

    /// Runs from `startNs` until the window ends and every reply is in (or the drain time passes).
    func run(startNs: Int64, windowStart: Int64, windowEnd: Int64, spin: Bool, stop: StopFlag) {
        stopOnFailure = stop
        recorder = LatencySeriesRecorder(windowStart: windowStart)
        defer {
            stoppedNs = MonotonicClock.now()
            exited.raise()
        }
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else {
            error = Socket.error("epoll_create1")
            return
        }
        defer { close(epoll) }
        for (index, connection) in connections.enumerated() {
            var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(u64: UInt64(index)))
            epoll_ctl(epoll, EPOLL_CTL_ADD, connection.fd, &event)
        }
        // Open loop: requests leave at their intended times (a timer wakes the thread for the next),
        // as many as the pipelines have room for; latency counts from the intended time.
        var pacer = OpenLoopPacer(rate: rate, startNs: startNs, index: place.index, count: place.count)
        var timer: Int32 = -1
        if pacer != nil {
            timer = lockstep_timerfd_create()
            guard timer >= 0 else {
                errno = -timer
                return fail(Socket.error("timerfd_create"))
            }
            var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(u64: Self.timerTag))
            epoll_ctl(epoll, EPOLL_CTL_ADD, timer, &event)
        }
        defer { if timer >= 0 { close(timer) } }
        var cursor = 0
        MonotonicClock.sleepThenSpin(until: startNs, spinNs: spin ? MonotonicClock.startSpinNs : 0)
        var now = MonotonicClock.now()
        if pacer == nil {
            for connection in connections {
                connection.fill(keys: keys, rng: &rng, now: now)
                guard connection.flush() else { return fail(Socket.error("send to redis at \(target)")) }
            }
        }
        var watching = connections.map { $0.wantsWrite }
        for (index, connection) in connections.enumerated() where watching[index] {
            watch(epoll, connection, index: index, write: true)
        }
        /// Open loop: sends every request now due that a pipeline has room for, and sets the timer
        /// to the next intended time. `false` on a send error.
        func issueDue() -> Bool {
            guard pacer != nil else { return true }
            let connections = self.connections
            while pacer!.nextNs <= now && pacer!.nextNs < windowEnd {
                guard
                    let free = (0..<connections.count).lazy.map({ (cursor + $0) % connections.count })
                        .first(where: { connections[$0].hasRoom })
                else { break }
                let intended = pacer!.nextNs
                if intended >= windowStart && OpenLoopPacer.isLate(intendedNs: intended, sentNs: now) { late &+= 1 }
                recorder?.sent(now)
                connections[free].issue(keys: keys, rng: &rng, sentNs: intended)
                pacer!.advance()
                cursor = (free + 1) % connections.count
            }
            for (index, connection) in connections.enumerated() where connection.wantsWrite {
                guard connection.flush() else { return false }
                if connection.wantsWrite != watching[index] {
                    watching[index] = connection.wantsWrite
                    watch(epoll, connection, index: index, write: watching[index])
                }
            }
            let next = pacer!.nextNs
            if next > now && next < windowEnd {
                _ = lockstep_timerfd_at(timer, next)
            }
            return true
        }
        guard issueDue() else { return fail(Socket.error("send to redis at \(target)")) }
        var cpuStart: Int64?
        var issuing = true
        var done: UInt64 = 0
        var events = [epoll_event](repeating: epoll_event(), count: max(connections.count, 1))
        while !stop.isRaised {
            if cpuStart == nil && now >= windowStart { cpuStart = EngineThread.cpuNs() }
            if issuing && now >= windowEnd {
                issuing = false
                cpuNs = EngineThread.cpuNs() - (cpuStart ?? EngineThread.cpuNs())
                // Open loop: the window's intended requests that never left are late too.
                while let next = pacer?.nextNs, next < windowEnd {
                    if next >= windowStart { late &+= 1 }
                    pacer!.advance()
                }
            }
            if !issuing && (connections.allSatisfy { $0.inFlight == 0 } || now > windowEnd + Self.drainNs) { return }
            let ready = events.withUnsafeMutableBufferPointer {
                epoll_wait(epoll, $0.baseAddress, Int32($0.count), 20)
            }
            now = MonotonicClock.now()
            if ready < 0 {
                if errno == EINTR { continue }
                return fail(Socket.error("epoll_wait"))
            }
            let inWindow = now >= windowStart && now <= windowEnd
            for e in events.prefix(Int(ready)) {
                if e.data.u64 == Self.timerTag {
                    var expirations: UInt64 = 0
                    _ = Glibc.read(timer, &expirations, 8)
                    continue
                }
                let index = Int(e.data.u64)
                let connection = connections[index]
                if e.events & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                    switch connection.read() {
                    case .ok: break
                    case .closed:
                        return fail(
                            WireError(
                                stalled.isRaised ? .dataPlaneStalled : .dataPlane,
                                stalled.isRaised
                                    ? "data plane stalled: redis at \(target) answered nothing for \(stallSeconds) s"
                                    : "redis at \(target) closed the connection (server gone or client dropped)"))
                    case .failed:
                        return fail(
                            stalled.isRaised
                                ? WireError(
                                    .dataPlaneStalled,
                                    "data plane stalled: redis at \(target) answered nothing for \(stallSeconds) s"
                                )
                                : Socket.error("receive from redis at \(target)"))
                    }
                    do {
                        try connection.takeReplies(keys: keys) { reply in
                            done &+= 1
                            latencyTotal &+= UInt64(max(now - reply.sentNs, 1))
                            tally(reply, now: now, inWindow: inWindow)
                        }
                    } catch {
                        return fail(WireError(.serverProtocol, "redis at \(target): \(error)"))
                    }
                    if issuing && pacer == nil { connection.fill(keys: keys, rng: &rng, now: now) }
                }
                guard connection.flush() else { return fail(Socket.error("send to redis at \(target)")) }
                if connection.wantsWrite != watching[index] {
                    watching[index] = connection.wantsWrite
                    watch(epoll, connection, index: index, write: watching[index])
                }
            }
            if issuing && !issueDue() { return fail(Socket.error("send to redis at \(target)")) }
            latencySum.publish(latencyTotal)
            progress.publish(done)
        }
    }

    /// Errors and value mismatches count over the whole step; operations, hits, misses and
    /// latency inside the window only.
    @inline(__always)
    private func tally(_ reply: RedisReply, now: Int64, inWindow: Bool) {
        switch reply.outcome {
        case .error:
            errors &+= 1
            return
        case .mismatch: mismatches &+= 1
        default: break
        }
        guard inWindow else { return }
        switch reply.outcome {
        case .miss: misses &+= 1
        case .hit, .mismatch: hits &+= 1
        default: break
        }
        if reply.isSet { sets &+= 1 } else { gets &+= 1 }
        histogram.record(UInt64(max(now - reply.sentNs, 1)))
        recorder?.record(sentNs: reply.sentNs, doneNs: now)
    }

    private func watch(_ epoll: Int32, _ connection: RedisConnection, index: Int, write: Bool) {
        var event = epoll_event(
            events: EPOLLIN.rawValue | (write ? EPOLLOUT.rawValue : 0), data: epoll_data_t(u64: UInt64(index)))
        epoll_ctl(epoll, EPOLL_CTL_MOD, connection.fd, &event)
    }

    /// Records the failure and raises the engine's stop flag, so the other workers end now
    /// instead of at the end of the window.
    private func fail(_ failure: WireError) {
        error = failure
        stopOnFailure?.raise()
    }
}
