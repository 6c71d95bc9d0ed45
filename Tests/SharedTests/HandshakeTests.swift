import Foundation
import Testing

@testable import Shared

@Suite struct HandshakeTests {
    let host = HostFacts(hostname: "h", kernel: "k", cpuModel: "m", cores: 2, softwareVersion: "1")
    let token = Token(bytes: Array("0123456789abcdef0123456789abcdef".utf8))

    /// Runs both machines against each other by passing messages; returns the coordinator's last action.
    func handshake(coordinatorToken: Token, agentToken: Token) -> CoordinatorHandshake.Action {
        var coordinator = CoordinatorHandshake(token: coordinatorToken, nonce: Data(randomBytes(32)))
        var agent = AgentHandshake(token: agentToken, name: "sut", host: host, nonce: Data(randomBytes(32)))
        var toAgent = coordinator.start()
        while true {
            let reply: WireMessage
            switch agent.received(toAgent) {
            case .send(let m): reply = m
            case .authenticated(let m, _): reply = m
            case .reject(let f): reply = .failure(f)
            }
            switch coordinator.received(reply) {
            case .send(let m): toAgent = m
            case let done: return done
            }
        }
    }

    @Test func sameTokenAuthenticatesBothWays() {
        #expect(
            handshake(coordinatorToken: token, agentToken: token)
                == .authenticated(agent: "sut", version: "1", host: host))
    }

    @Test func wrongTokenIsRefusedByTheAgent() {
        let other = Token(bytes: Array("fedcba9876543210fedcba9876543210".utf8))
        guard case .fail(let error) = handshake(coordinatorToken: other, agentToken: token) else {
            Issue.record("handshake with a wrong token succeeded")
            return
        }
        #expect(error.code == .authenticationFailed)
    }

    @Test func replayedProofFailsAgainstAFreshNonce() {
        // An eavesdropper records a good coordinator proof, then replays it on a new connection.
        let coordinatorNonce = Data(randomBytes(32))
        var first = AgentHandshake(token: token, name: "sut", host: host, nonce: Data(randomBytes(32)))
        var coordinator = CoordinatorHandshake(token: token, nonce: coordinatorNonce)
        let hello = coordinator.start()
        guard case .send(let agentHello) = first.received(hello),
            case .send(let proof) = coordinator.received(agentHello)
        else {
            Issue.record("first handshake did not proceed")
            return
        }
        var second = AgentHandshake(token: token, name: "sut", host: host, nonce: Data(randomBytes(32)))
        _ = second.received(hello)
        guard case .reject(let failure) = second.received(proof) else {
            Issue.record("replayed proof accepted")
            return
        }
        #expect(failure.code == .authenticationFailed)
    }

    @Test func agentRefusesAnythingBeforeHello() {
        var agent = AgentHandshake(token: token, name: "sut", host: host, nonce: Data(randomBytes(32)))
        guard
            case .reject(let failure) = agent.received(
                .prepare(Prepare(step: StepSpec(runID: "r", stepID: "s", role: .sut, workload: Workload(RRSpec())))))
        else {
            Issue.record("prepare accepted before hello")
            return
        }
        #expect(failure.code == .notAuthenticated)
    }

    @Test func agentRefusesAnythingButAuthenticateAfterHello() {
        var agent = AgentHandshake(token: token, name: "sut", host: host, nonce: Data(randomBytes(32)))
        _ = agent.received(
            .hello(Hello(role: "coordinator", name: "c", softwareVersion: "1", nonce: Data(randomBytes(32)))))
        guard case .reject(let failure) = agent.received(.clockProbe(ClockProbe(t0: 1))) else {
            Issue.record("clock probe accepted before authentication")
            return
        }
        #expect(failure.code == .notAuthenticated)
    }

    @Test func wrongProtocolVersionIsRefused() {
        var agent = AgentHandshake(token: token, name: "sut", host: host, nonce: Data(randomBytes(32)))
        let hello = Hello(
            protocolVersion: 99, role: "coordinator", name: "c", softwareVersion: "9", nonce: Data(randomBytes(32)))
        guard case .reject(let failure) = agent.received(.hello(hello)) else {
            Issue.record("wrong version accepted")
            return
        }
        #expect(failure.code == .versionMismatch)
    }

    @Test func agentProofIsCheckedByTheCoordinator() {
        var coordinator = CoordinatorHandshake(token: token, nonce: Data(randomBytes(32)))
        _ = coordinator.start()
        _ = coordinator.received(
            .hello(Hello(role: "agent", name: "impostor", softwareVersion: "1", nonce: Data(randomBytes(32)))))
        let action = coordinator.received(.authenticated(Authenticated(mac: Data(repeating: 0, count: 32), host: host)))
        guard case .fail(let error) = action else {
            Issue.record("impostor agent accepted")
            return
        }
        #expect(error.code == .authenticationFailed)
    }

    @Test func constantTimeCompare() {
        #expect(HandshakeProof.verify(Data([1, 2, 3]), equals: Data([1, 2, 3])))
        #expect(!HandshakeProof.verify(Data([1, 2, 4]), equals: Data([1, 2, 3])))
        #expect(!HandshakeProof.verify(Data([1, 2]), equals: Data([1, 2, 3])))
    }
}
