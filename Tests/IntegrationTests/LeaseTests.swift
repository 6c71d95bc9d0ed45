import Foundation
import Shared
import Testing

/// An agent that stops hearing from its coordinator stops its load and servers by itself.
extension Integration {
    @Suite struct LeaseTests {
        let token = Token(bytes: Array("0123456789abcdef0123456789abcdef".utf8))

        @Test func silentCoordinatorLosesItsResponderWithinTheLease() async throws {
            let agent = try await InProcessAgent(name: "sut", token: token, lease: 1)
            let client = try RawClient(agent.endpoint)
            guard case .message(.authenticated) = try await client.authenticate(token: token) else {
                Issue.record("no session")
                return
            }
            try client.send(
                .prepare(
                    Prepare(
                        step: StepSpec(
                            runID: "r", stepID: "s", role: .sut, workload: Workload(RRSpec())))))
            guard case .message(.ready(let ready)) = try await client.receive(), let endpoint = ready.endpoint else {
                Issue.record("no ready with an endpoint")
                return
            }
            #expect(isListening(endpoint))
            // Now the coordinator falls silent (no heartbeats) without closing the connection.
            let silentSince = Date()
            var stoppedAfter: Double?
            while Date().timeIntervalSince(silentSince) < 5 {
                if !isListening(endpoint) {
                    stoppedAfter = Date().timeIntervalSince(silentSince)
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            let after = try #require(stoppedAfter, "responder still listening 5 s after the coordinator fell silent")
            #expect(after >= 0.9, "the lease is 1 s; stopping earlier would kill healthy runs")
            #expect(try await client.receive(seconds: 2) == .closed)
            await agent.shutdown()
        }

        @Test func coordinatorThatSendsHeartbeatsKeepsItsSession() async throws {
            let agent = try await InProcessAgent(name: "sut", token: token, lease: 1)
            let client = try RawClient(agent.endpoint)
            guard case .message(.authenticated) = try await client.authenticate(token: token) else {
                Issue.record("no session")
                return
            }
            for _ in 0..<8 {
                try client.send(.heartbeat(Heartbeat(tNs: MonotonicClock.now())))
                try await Task.sleep(for: .milliseconds(300))
            }
            try client.send(.clockProbe(ClockProbe(t0: MonotonicClock.now())))
            guard case .message(.clockReply) = try await client.receive() else {
                Issue.record("session ended although heartbeats kept coming")
                return
            }
            await agent.shutdown()
        }
    }
}
