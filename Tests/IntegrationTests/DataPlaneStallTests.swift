import Foundation
import Shared
import Testing

@testable import Agent

#if canImport(Glibc)
    import Glibc
#endif

extension Integration {
    /// A far end that accepts and then falls silent: the engine must fail with a stall after the 3 s
    /// timeout, not hang and not report an empty result.
    @Suite struct DataPlaneStallTests {
        @Test func silentResponderIsAStallWithinTheTimeout() async throws {
            try await expectStall { target, sink in
                try RRClient(
                    RRSpec(proto: .tcp), step: stallStep(Workload(RRSpec(proto: .tcp)), target: target), events: sink)
            }
        }

        @Test func bulkReceiverWhoseSenderFallsSilentIsAStall() async throws {
            // sut-tx seen from the peer: it receives; the "SUT" here accepts and never sends.
            try await expectStall { target, sink in
                try StreamEngine(
                    StreamSpec(direction: .sutTx),
                    step: stallStep(Workload(StreamSpec(direction: .sutTx)), target: target),
                    events: sink)
            }
        }

        /// Starts the engine `make` builds against a listener that never talks, and expects exactly
        /// one terminal event, a stall, about 3 s later.
        func expectStall(
            _ make: (Endpoint, @escaping EngineEventSink) throws -> any Engine,
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws {
            let listener = try Socket.bound(host: "127.0.0.1", port: 0, type: Int32(SOCK_STREAM.rawValue))
            defer { close(listener) }
            let events = LockedValue<[String]>([])
            let engine = try make(Endpoint(host: "127.0.0.1", port: Socket.localPort(listener))) { event in
                switch event {
                case .failed(let error): events.withLock { $0.append(error.code.rawValue) }
                case .finished: events.withLock { $0.append("finished") }
                default: break
                }
            }
            let start = Date()
            engine.start(atNs: MonotonicClock.now())
            while events.value.isEmpty && Date().timeIntervalSince(start) < 8 {
                try await Task.sleep(for: .milliseconds(50))
            }
            let after = Date().timeIntervalSince(start)
            #expect(events.value == [WireError.Code.dataPlaneStalled.rawValue], sourceLocation: sourceLocation)
            #expect(
                after >= 2.9 && after < 5, "stall reported after \(after) s; the timeout is 3 s",
                sourceLocation: sourceLocation)
        }
    }
}

/// A peer's step with a 30 s window against `target`.
private func stallStep(_ workload: Workload, target: Endpoint) -> StepSpec {
    StepSpec(
        runID: "r", stepID: "s", role: .peer, timing: StepTiming(warmupNs: 0, durationNs: 30_000_000_000),
        placement: Placement(target: target), workload: workload)
}
