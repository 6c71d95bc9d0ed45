import Crypto
import Foundation

/// The agent's side of the handshake, as a value: feed it messages, act on what it returns.
///
/// hello (coordinator) → hello (agent, fresh nonce) → authenticate (coordinator proof)
/// → authenticated (agent proof). Nothing else is accepted until then.
package struct AgentHandshake: Sendable {
    /// What the I/O layer must do next.
    package enum Action: Equatable, Sendable {
        /// Send this message and keep going.
        case send(WireMessage)
        /// The coordinator is authenticated: send this message, the session begins.
        case authenticated(WireMessage, coordinator: String)
        /// Send this failure and close the connection.
        case reject(WireFailure)
    }

    private enum State: Sendable {
        case awaitingHello
        case awaitingProof(coordinatorNonce: Data, coordinator: String)
        case done
    }

    private var state: State = .awaitingHello
    private let token: Token
    private let name: String
    private let nonce: Data
    private let host: HostFacts
    private let probePort: Int?
    /// The session's clock-probe key, once the coordinator proved it holds the token.
    private(set) package var probeKey: ProbeKey?

    /// `nonce` must be fresh for every connection (see ``randomBytes(_:)``); `probePort` is announced
    /// in the agent's hello.
    package init(token: Token, name: String, host: HostFacts, nonce: Data, probePort: Int? = nil) {
        self.token = token
        self.name = name
        self.host = host
        self.nonce = nonce
        self.probePort = probePort
    }

    /// The next message from the coordinator.
    package mutating func received(_ message: WireMessage) -> Action {
        switch (state, message) {
        case (.awaitingHello, .hello(let hello)):
            guard hello.protocolVersion == Hello.currentProtocolVersion else {
                state = .done
                return .reject(
                    WireFailure(
                        code: .versionMismatch,
                        message:
                            "agent speaks protocol \(Hello.currentProtocolVersion), coordinator \(hello.protocolVersion)"
                    ))
            }
            guard hello.nonce.count >= 16 else {
                state = .done
                return .reject(WireFailure(code: .malformedFrame, message: "hello nonce shorter than 16 bytes"))
            }
            state = .awaitingProof(coordinatorNonce: hello.nonce, coordinator: hello.name)
            return .send(
                .hello(
                    Hello(
                        role: "agent", name: name, softwareVersion: host.softwareVersion, nonce: nonce,
                        probePort: probePort)))
        case (.awaitingProof(let coordinatorNonce, let coordinator), .authenticate(let auth)):
            state = .done
            let expected = HandshakeProof.coordinator(
                token: token, agentNonce: nonce, coordinatorNonce: coordinatorNonce)
            guard HandshakeProof.verify(auth.mac, equals: expected) else {
                return .reject(WireFailure(code: .authenticationFailed, message: "wrong token"))
            }
            probeKey = HandshakeProof.probeKey(token: token, agentNonce: nonce, coordinatorNonce: coordinatorNonce)
            let proof = HandshakeProof.agent(token: token, coordinatorNonce: coordinatorNonce, agentNonce: nonce)
            return .authenticated(.authenticated(Authenticated(mac: proof, host: host)), coordinator: coordinator)
        case (.awaitingHello, _):
            state = .done
            return .reject(WireFailure(code: .notAuthenticated, message: "expected hello, got \(message.kind)"))
        default:
            state = .done
            return .reject(WireFailure(code: .notAuthenticated, message: "expected authenticate, got \(message.kind)"))
        }
    }
}
