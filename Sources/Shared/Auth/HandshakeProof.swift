import Crypto
import Foundation

/// The HMAC-SHA256 proofs of the handshake. Each side proves it holds the token by a MAC over
/// both fresh nonces, with the other side's nonce first and a role label, so a proof can be neither
/// replayed into a later session nor reflected back to its sender.
package enum HandshakeProof {
    /// The coordinator's proof.
    package static func coordinator(token: Token, agentNonce: Data, coordinatorNonce: Data) -> Data {
        mac(token, label: "lockstep/1 coordinator", agentNonce, coordinatorNonce)
    }

    /// The agent's proof.
    package static func agent(token: Token, coordinatorNonce: Data, agentNonce: Data) -> Data {
        mac(token, label: "lockstep/1 agent", coordinatorNonce, agentNonce)
    }

    /// Checks a proof in constant time.
    package static func verify(_ proof: Data, equals expected: Data) -> Bool {
        guard proof.count == expected.count else { return false }
        var diff: UInt8 = 0
        for (a, b) in zip(proof, expected) { diff |= a ^ b }
        return diff == 0
    }

    private static func mac(_ token: Token, label: String, _ first: Data, _ second: Data) -> Data {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: token.bytes))
        hmac.update(data: Array(label.utf8))
        hmac.update(data: first)
        hmac.update(data: second)
        return Data(hmac.finalize())
    }
}
