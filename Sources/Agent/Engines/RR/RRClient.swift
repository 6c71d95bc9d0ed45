import Histogram
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// The peer side of TCP_RR / UDP_RR: `flows` connections, each on its own thread with exactly one
/// transaction in flight, recording each transaction's round trip into the flow's own histogram.
final class RRClient: Engine, @unchecked Sendable {
    let endpoint: Endpoint? = nil
    private let spec: RRSpec
    private let stepID: String
    private let events: EngineEventSink
    private let flows: [RRFlow]
    private let stop = StopFlag()
    /// Raised only by ``requestStop()``: flow errors after it are our own shutdowns, not failures.
    private let stopRequested = StopFlag()
    /// Time without any response after which a flow gives up with "data plane stalled".
    static let stallTimeoutNs: Int64 = 3_000_000_000

    /// Connects every flow to the responder; throws a ``WireError`` naming the target on failure.
    init(spec: RRSpec, stepID: String, events: @escaping EngineEventSink) throws {
        guard let target = spec.target else { throw WireError(.badStep, "rr client without a target endpoint") }
        self.spec = spec
        self.stepID = stepID
        self.events = events
        let type = spec.proto == .tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)
        var flows: [RRFlow] = []
        do {
            for _ in 0..<spec.flows {
                flows.append(RRFlow(fd: try Socket.connected(to: target, type: type), spec: spec))
            }
        } catch {
            flows.forEach { $0.close() }
            throw error
        }
        self.flows = flows
    }

    func start(atNs: Int64) {
        let windowStart = atNs + spec.warmupNs
        let windowEnd = windowStart + spec.durationNs
        // Only the first flow spins for a precise start; on few cores more spinners would delay each other.
        let threads = flows.enumerated().map { index, flow in
            EngineThread(name: "rr-flow-\(index)") { [stop] in
                flow.run(startAt: atNs, spin: index == 0, windowStart: windowStart, windowEnd: windowEnd, stop: stop)
            }
        }
        let sampler = IntervalSampler(stepID: stepID, startNs: atNs, endNs: windowEnd, stop: stop, events: events) {
            [flows] in
            IntervalSampler.Counters(
                transactions: flows.reduce(0) { $0 + $1.done.current },
                lost: flows.reduce(0) { $0 + $1.lostCounter.current })
        }
        let samplerThread = EngineThread(name: "rr-sampler") { sampler.run() }
        let watchdog = StallWatchdog(flows: flows, startNs: atNs, stop: stop, timeoutNs: Self.stallTimeoutNs)
        let watchdogThread = spec.proto == .tcp ? EngineThread(name: "rr-watchdog") { watchdog.run() } : nil
        _ = EngineThread(name: "rr-supervisor") { [self] in
            MonotonicClock.sleepThenSpin(until: atNs, spinNs: 0)
            let started = flows[0].awaitStart()
            events(.started(started))
            threads.forEach { $0.join() }
            stop.raise()
            samplerThread.join()
            watchdogThread?.join()
            finish(startedNs: started, windowStart: windowStart, windowEnd: windowEnd)
        }
    }

    func requestStop() {
        stopRequested.raise()
        stop.raise()
        flows.forEach { $0.shutdown() }
    }

    private func finish(startedNs: Int64, windowStart: Int64, windowEnd: Int64) {
        defer { flows.forEach { $0.close() } }
        if !stopRequested.isRaised, let failure = flows.lazy.compactMap(\.error).first {
            events(.failed(failure))
            return
        }
        var merged = HistogramSnapshot.makeLatencyHistogram()
        var transactions: UInt64 = 0
        var lost: UInt64 = 0
        var stoppedNs = startedNs
        var lastEnd = windowStart
        for flow in flows {
            merged.add(flow.histogram)
            transactions += flow.transactions
            lost += flow.lost
            stoppedNs = max(stoppedNs, flow.stoppedNs)
            lastEnd = max(lastEnd, min(flow.stoppedNs, windowEnd))
        }
        events(
            .finished(
                SideResult(
                    startedNs: startedNs, stoppedNs: stoppedNs, windowStartNs: windowStart, windowEndNs: lastEnd,
                    transactions: transactions, lost: lost, latency: HistogramSnapshot(merged))))
    }
}
