import Crypto
import Foundation

/// The coordinator's side of the handshake, as a value.
package struct CoordinatorHandshake: Sendable {
    /// What the I/O layer must do next.
    package enum Action: Equatable, Sendable {
        /// Send this message and keep going.
        case send(WireMessage)
        /// The agent is authenticated.
        case authenticated(agent: String, version: String, host: HostFacts)
        /// The handshake failed.
        case fail(WireError)
    }

    private enum State: Sendable {
        case idle
        case awaitingHello
        case awaitingProof(agentNonce: Data, agent: String, version: String, probePort: Int?)
        case done
    }

    private var state: State = .idle
    private let token: Token
    private let name: String
    private let nonce: Data
    /// The agent's clock-probe port and the session's probe key, once the agent is authenticated.
    private(set) package var probe: (port: Int, key: ProbeKey)?

    package init(token: Token, name: String = "coordinator", nonce: Data) {
        self.token = token
        self.name = name
        self.nonce = nonce
    }

    /// The first message to send.
    package mutating func start() -> WireMessage {
        state = .awaitingHello
        return .hello(Hello(role: "coordinator", name: name, softwareVersion: LockstepVersion.current, nonce: nonce))
    }

    /// The next message from the agent.
    package mutating func received(_ message: WireMessage) -> Action {
        switch (state, message) {
        case (_, .failure(let failure)):
            state = .done
            return .fail(failure.error)
        case (.awaitingHello, .hello(let hello)):
            guard hello.protocolVersion == Hello.currentProtocolVersion else {
                state = .done
                return .fail(
                    WireError(
                        .versionMismatch,
                        "agent speaks protocol \(hello.protocolVersion), coordinator \(Hello.currentProtocolVersion)"))
            }
            state = .awaitingProof(
                agentNonce: hello.nonce, agent: hello.name, version: hello.softwareVersion, probePort: hello.probePort)
            let proof = HandshakeProof.coordinator(token: token, agentNonce: hello.nonce, coordinatorNonce: nonce)
            return .send(.authenticate(Authenticate(mac: proof)))
        case (.awaitingProof(let agentNonce, let agent, let version, let probePort), .authenticated(let auth)):
            state = .done
            let expected = HandshakeProof.agent(token: token, coordinatorNonce: nonce, agentNonce: agentNonce)
            guard HandshakeProof.verify(auth.mac, equals: expected) else {
                return .fail(WireError(.authenticationFailed, "agent \(agent) does not hold the token"))
            }
            if let probePort {
                probe = (
                    probePort, HandshakeProof.probeKey(token: token, agentNonce: agentNonce, coordinatorNonce: nonce)
                )
            }
            return .authenticated(agent: agent, version: version, host: auth.host)
        default:
            state = .done
            return .fail(WireError(.unexpectedMessage, "unexpected \(message.kind) during handshake"))
        }
    }
}
