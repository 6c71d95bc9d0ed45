import Histogram
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// The peer side of TCP_RR / UDP_RR: `flows` connections, each on its own thread with exactly one
/// transaction in flight, recording each transaction's round trip into the flow's own histogram.
/// The flows run on a ``LoadSupervisor`` like every load generator.
final class RRClient: Engine, @unchecked Sendable {
    let endpoint: Endpoint? = nil
    private let spec: RRSpec
    private let step: StepSpec
    private let events: EngineEventSink
    private let flows: [RRFlow]
    private let stop = StopFlag()
    /// Raised only by ``requestStop()``: flow errors after it are our own shutdowns, not failures.
    private let stopRequested = StopFlag()
    /// Time without any response after which a flow gives up with "data plane stalled".
    static let stallTimeoutNs: Int64 = 3_000_000_000

    /// Connects every flow to the responder; throws a ``WireError`` naming the target on failure.
    init(_ spec: RRSpec, step: StepSpec, events: @escaping EngineEventSink) throws {
        guard let target = step.placement.target else { throw WireError(.badStep, "rr client without a target") }
        try EngineThread.checkPinning(step.placement.cpus(for: step.role))
        self.spec = spec
        self.step = step
        self.events = events
        let type = spec.proto == .tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)
        var flows: [RRFlow] = []
        do {
            for _ in 0..<spec.flows {
                flows.append(
                    RRFlow(
                        fd: try Socket.connected(to: target, type: type), spec: spec,
                        sutClockOffsetNs: step.placement.sutClockOffsetNs))
            }
        } catch {
            flows.forEach { $0.close() }
            throw error
        }
        self.flows = flows
    }

    func start(atNs: Int64) {
        var supervisor = LoadSupervisor(
            name: "rr", stepID: step.stepID, workers: flows,
            stallTimeoutNs: spec.proto == .tcp ? Self.stallTimeoutNs : nil, cpus: step.placement.cpus(for: step.role),
            stop: stop, stopRequested: stopRequested, events: events)
        supervisor.measureStart = { [flows] atNs in
            MonotonicClock.sleepThenSpin(until: atNs, spinNs: 0)
            return flows[0].awaitStart()
        }
        supervisor.start(
            atNs: atNs, timing: step.timing,
            result: { totals in
                SideOutcome(
                    RRClientResult(
                        transactions: totals.tally.transactions, lost: totals.tally.lost,
                        latency: HistogramSnapshot(totals.tally.histogram), load: totals.load,
                        oneWay: totals.tally.oneWay?.result))
            },
            cleanup: { [flows] in flows.forEach { $0.close() } })
    }

    func requestStop() {
        stopRequested.raise()
        stop.raise()
        flows.forEach { $0.shutdown() }
    }
}
