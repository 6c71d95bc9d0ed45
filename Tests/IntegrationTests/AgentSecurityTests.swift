import Foundation
import Shared
import TestSupport
import Testing

@testable import Coordinator

/// Attacks on a live agent: each is refused with a typed error, and the agent keeps serving.
extension Integration {
    @Suite struct AgentSecurityTests {
        let token = Token(bytes: Array("0123456789abcdef0123456789abcdef".utf8))

        /// After an attack, a real coordinator must still get in.
        func expectStillServes(_ agent: InProcessAgent, sourceLocation: SourceLocation = #_sourceLocation) async throws
        {
            let client = try RawClient(agent.endpoint)
            guard case .message(.authenticated) = try await client.authenticate(token: token) else {
                Issue.record("agent stopped serving after the attack", sourceLocation: sourceLocation)
                return
            }
        }

        func expectFailure(
            _ received: RawClient.Received, _ code: WireError.Code,
            sourceLocation: SourceLocation = #_sourceLocation
        ) {
            guard case .message(.failure(let failure)) = received else {
                Issue.record("expected a \(code) failure, got \(received)", sourceLocation: sourceLocation)
                return
            }
            #expect(failure.code == code, sourceLocation: sourceLocation)
        }

        @Test func wrongTokenIsRefusedAndTheConnectionClosed() async throws {
            let agent = try await InProcessAgent(name: "sut", token: token)
            let client = try RawClient(agent.endpoint)
            expectFailure(
                try await client.authenticate(token: Token(bytes: Array("not-the-token-at-all-0000".utf8))),
                .authenticationFailed)
            #expect(try await client.receive() == .closed)
            try await expectStillServes(agent)
            await agent.shutdown()
        }

        @Test func garbageBytesAreAMalformedFrame() async throws {
            let agent = try await InProcessAgent(name: "sut", token: token)
            let client = try RawClient(agent.endpoint)
            client.send(bytes: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            expectFailure(try await client.receive(), .malformedFrame)
            #expect(try await client.receive() == .closed)
            try await expectStillServes(agent)
            await agent.shutdown()
        }

        @Test func oversizedLengthPrefixIsRefusedWithoutReadingIt() async throws {
            let agent = try await InProcessAgent(name: "sut", token: token)
            let client = try RawClient(agent.endpoint)
            client.send(bytes: [WireMessage.Kind.hello.rawValue, 0x7F, 0xFF, 0xFF, 0xFF])
            expectFailure(try await client.receive(), .frameTooLarge)
            #expect(try await client.receive() == .closed)
            try await expectStillServes(agent)
            await agent.shutdown()
        }

        @Test func commandsBeforeAuthenticationAreRefused() async throws {
            let agent = try await InProcessAgent(name: "sut", token: token)
            let client = try RawClient(agent.endpoint)
            try client.send(
                .prepare(Prepare(step: StepSpec(runID: "r", stepID: "s", role: .sut, workload: Workload(RRSpec())))))
            expectFailure(try await client.receive(), .notAuthenticated)
            #expect(try await client.receive() == .closed)
            // A clock probe right after hello is refused too: nothing is answered before the proof.
            let second = try RawClient(agent.endpoint)
            try second.send(
                .hello(Hello(role: "coordinator", name: "x", softwareVersion: "1", nonce: Data(randomBytes(32)))))
            guard case .message(.hello) = try await second.receive() else {
                Issue.record("no hello from the agent")
                return
            }
            try second.send(.clockProbe(ClockProbe(t0: 1)))
            expectFailure(try await second.receive(), .notAuthenticated)
            try await expectStillServes(agent)
            await agent.shutdown()
        }

        @Test func wrongProtocolVersionIsRefused() async throws {
            let agent = try await InProcessAgent(name: "sut", token: token)
            let client = try RawClient(agent.endpoint)
            try client.send(
                .hello(
                    Hello(
                        protocolVersion: 2, role: "coordinator", name: "x", softwareVersion: "9",
                        nonce: Data(randomBytes(32)))))
            expectFailure(try await client.receive(), .versionMismatch)
            try await expectStillServes(agent)
            await agent.shutdown()
        }

        @Test func silentClientIsDroppedAfterTheHandshakeTimeout() async throws {
            let agent = try await InProcessAgent(name: "sut", token: token, handshakeTimeout: 0.5)
            let client = try RawClient(agent.endpoint)
            client.send(bytes: [WireMessage.Kind.hello.rawValue])  // one byte, then nothing
            #expect(try await client.receive(seconds: 5) == .closed)
            try await expectStillServes(agent)
            await agent.shutdown()
        }

        @Test func aRunPassesWhileAttackersHammerTheAgent() async throws {
            let pair = try await InProcessPair(token: token)
            let endpoint = pair.sut.endpoint
            let attack = Task.detached {
                var attempts = 0
                while !Task.isCancelled {
                    if let c = try? RawClient(endpoint) {
                        c.send(bytes: randomBytes(64))
                        _ = try? await c.receive(seconds: 0.2)
                        attempts += 1
                    }
                }
                return attempts
            }
            let outcomes = try await pair.run(
                steps: [step(Workload(RRSpec(proto: .tcp)), warmupNs: 100_000_000)], out: pair.scratch.path + "/run")
            attack.cancel()
            let attempts = await attack.value
            #expect(try #require(outcomes.first).rr().transactions > 100)
            #expect(attempts > 3)
            await pair.shutdown()
        }
    }
}
