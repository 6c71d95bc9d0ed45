import Foundation
import Shared
import Testing

@testable import Agent

#if canImport(Glibc)
    import Glibc
#endif

extension Integration {
    /// A responder that accepts and then never answers: the RR client must fail with a stall, not
    /// hang and not report an empty result.
    @Suite struct DataPlaneStallTests {
        @Test func silentResponderIsAStallWithinTheTimeout() async throws {
            let listener = try Socket.bound(host: "127.0.0.1", port: 0, type: Int32(SOCK_STREAM.rawValue))
            defer { close(listener) }
            let target = Endpoint(host: "127.0.0.1", port: Socket.localPort(listener))
            let events = LockedValue<[String]>([])
            let client = try RRClient(
                spec: RRSpec(proto: .tcp, warmupNs: 0, durationNs: 30_000_000_000, target: target), stepID: "s",
                events: { event in
                    switch event {
                    case .failed(let error): events.withLock { $0.append(error.code.rawValue) }
                    case .finished: events.withLock { $0.append("finished") }
                    default: break
                    }
                })
            let start = Date()
            client.start(atNs: MonotonicClock.now())
            while events.value.isEmpty && Date().timeIntervalSince(start) < 8 {
                try await Task.sleep(for: .milliseconds(50))
            }
            let after = Date().timeIntervalSince(start)
            #expect(events.value == [WireError.Code.dataPlaneStalled.rawValue])
            #expect(after >= 2.9 && after < 5, "stall reported after \(after) s; the timeout is 3 s")
        }

        @Test func bulkReceiverWhoseSenderFallsSilentIsAStall() async throws {
            // sut-tx seen from the peer: it receives; the "SUT" here accepts and never sends.
            let listener = try Socket.bound(host: "127.0.0.1", port: 0, type: Int32(SOCK_STREAM.rawValue))
            defer { close(listener) }
            let target = Endpoint(host: "127.0.0.1", port: Socket.localPort(listener))
            let events = LockedValue<[String]>([])
            let engine = try StreamEngine(
                spec: StreamSpec(direction: .sutTx, warmupNs: 0, durationNs: 30_000_000_000, target: target),
                stepID: "s", isSUT: false,
                events: { event in
                    switch event {
                    case .failed(let error): events.withLock { $0.append(error.code.rawValue) }
                    case .finished: events.withLock { $0.append("finished") }
                    default: break
                    }
                })
            let start = Date()
            engine.start(atNs: MonotonicClock.now())
            while events.value.isEmpty && Date().timeIntervalSince(start) < 8 {
                try await Task.sleep(for: .milliseconds(50))
            }
            let after = Date().timeIntervalSince(start)
            #expect(events.value == [WireError.Code.dataPlaneStalled.rawValue])
            #expect(after >= 2.9 && after < 5, "stall reported after \(after) s; the timeout is 3 s")
        }
    }
}
