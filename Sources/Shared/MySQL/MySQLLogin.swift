import Crypto
import _CryptoExtras

/// Capability flags of the MySQL client/server protocol that lockstep reads or sets.
package enum MySQLCapability {
    package static let longPassword: UInt32 = 0x1
    package static let connectWithDB: UInt32 = 0x8
    package static let protocol41: UInt32 = 0x200
    package static let ssl: UInt32 = 0x800
    package static let transactions: UInt32 = 0x2000
    package static let secureConnection: UInt32 = 0x8000
    package static let multiResults: UInt32 = 0x2_0000
    package static let pluginAuth: UInt32 = 0x8_0000
    package static let pluginAuthLenencData: UInt32 = 0x20_0000

    /// What lockstep asks for: 4.1 protocol, plugin auth, a default database, classic EOF packets.
    package static let client: UInt32 =
        longPassword | connectWithDB | protocol41 | transactions | secureConnection | multiResults | pluginAuth
        | pluginAuthLenencData
}

/// The server's first packet (Protocol::HandshakeV10).
package struct MySQLGreeting: Equatable, Sendable {
    /// Always 10.
    package var protocolVersion: UInt8
    /// E.g. `5.5.5-10.11.19-MariaDB-0+deb12u1` or `8.0.36`.
    package var serverVersion: String
    /// The server's thread id for this connection.
    package var connectionID: UInt32
    /// The 20-byte scramble the password proof is computed over.
    package var nonce: [UInt8]
    /// The server's capability flags.
    package var capabilities: UInt32
    /// The server's default character set.
    package var characterSet: UInt8
    /// Server status flags.
    package var status: UInt16
    /// The authentication plugin the server starts with (`mysql_native_password`, `caching_sha2_password`).
    package var authPlugin: String

    /// Parses a greeting payload.
    package static func parse(_ payload: [UInt8]) throws -> MySQLGreeting {
        var r = MySQLReader(payload)
        let version = try r.byte("protocol version")
        if version == 0xFF {
            throw MySQLServerError.parse(payload) ?? MySQLProtocolError("the server refused the connection")
        }
        guard version == 10 else { throw MySQLProtocolError("handshake protocol version \(version), expected 10") }
        let serverVersion = String(decoding: try r.nulTerminated("server version"), as: UTF8.self)
        let connectionID = UInt32(try r.fixed(4, "connection id"))
        var nonce = Array(try r.take(8, "auth data part 1"))
        _ = try r.byte("filler")
        var capabilities = UInt32(try r.fixed(2, "capabilities"))
        var characterSet: UInt8 = 0
        var status: UInt16 = 0
        var authPlugin = "mysql_native_password"
        if r.remaining > 0 {
            characterSet = try r.byte("character set")
            status = UInt16(try r.fixed(2, "status"))
            capabilities |= UInt32(try r.fixed(2, "capabilities (upper)")) << 16
            let authDataLength = Int(try r.byte("auth data length"))
            _ = try r.take(10, "reserved")
            if capabilities & MySQLCapability.secureConnection != 0 {
                let part2 = try r.take(max(13, authDataLength - 8), "auth data part 2")
                nonce += part2.prefix(12)
            }
            if capabilities & MySQLCapability.pluginAuth != 0, r.remaining > 0 {
                var name = r.rest()
                if name.last == 0 { name = name.dropLast() }
                authPlugin = String(decoding: name, as: UTF8.self)
            }
        }
        guard capabilities & MySQLCapability.protocol41 != 0 else {
            throw MySQLProtocolError(
                "the server does not speak protocol 4.1 (capabilities 0x\(String(capabilities, radix: 16)))")
        }
        return MySQLGreeting(
            protocolVersion: version, serverVersion: serverVersion, connectionID: connectionID, nonce: nonce,
            capabilities: capabilities, characterSet: characterSet, status: status, authPlugin: authPlugin)
    }
}

/// The password proofs of the authentication plugins lockstep speaks.
package enum MySQLAuth {
    /// `mysql_native_password`: SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password))); empty for no password.
    package static func nativePassword(_ password: [UInt8], nonce: [UInt8]) -> [UInt8] {
        guard !password.isEmpty else { return [] }
        let stage1 = Array(Insecure.SHA1.hash(data: password))
        let stage2 = Array(Insecure.SHA1.hash(data: stage1))
        let mix = Array(Insecure.SHA1.hash(data: nonce.prefix(20) + stage2))
        return zip(stage1, mix).map { $0 ^ $1 }
    }

    /// `caching_sha2_password`'s fast path: SHA256(password) XOR SHA256(SHA256(SHA256(password)) + nonce).
    package static func cachingSHA2(_ password: [UInt8], nonce: [UInt8]) -> [UInt8] {
        guard !password.isEmpty else { return [] }
        let stage1 = Array(SHA256.hash(data: password))
        let stage2 = Array(SHA256.hash(data: stage1))
        let mix = Array(SHA256.hash(data: stage2 + nonce.prefix(20)))
        return zip(stage1, mix).map { $0 ^ $1 }
    }

    /// `caching_sha2_password`'s full path without TLS: the NUL-terminated password XOR the nonce
    /// (repeated), encrypted with the server's RSA public key (PKCS#1 OAEP, SHA-1, as the server expects).
    package static func rsaEncryptedPassword(_ password: [UInt8], nonce: [UInt8], publicKeyPEM: String) throws
        -> [UInt8]
    {
        let key: _RSA.Encryption.PublicKey
        // Read by lockstep into n and e first: swift-crypto's PEM reader corrupts the heap on a key
        // it cannot read (RSAPublicKeyDER).
        guard let (n, e) = RSAPublicKeyDER.parse(pem: publicKeyPEM) else {
            throw MySQLProtocolError("the server's RSA public key cannot be read (not an RSA public key in PEM)")
        }
        do {
            key = try _RSA.Encryption.PublicKey(n: n, e: e)
        } catch {
            throw MySQLProtocolError("the server's RSA public key cannot be read: \(error)")
        }
        let plain = password + [0]
        let seed = nonce.isEmpty ? [0] : Array(nonce.prefix(20))
        let mixed = plain.indices.map { plain[$0] ^ seed[$0 % seed.count] }
        return Array(try key.encrypt(mixed, padding: .PKCS1_OAEP))
    }
}

/// Who connects, and where to.
package struct MySQLCredentials: Equatable, Sendable {
    package var user: String
    package var password: String
    /// The default database; empty for none.
    package var database: String

    package init(user: String, password: String, database: String) {
        self.user = user
        self.password = password
        self.database = database
    }
}

/// The client side of the connection phase as a pure state machine: server payloads in, client
/// payloads out. Handles `mysql_native_password`, `caching_sha2_password` (fast path, and the full
/// path over the server's RSA key) and auth-switch requests.
package struct MySQLLogin {
    /// What to do after a server packet.
    package enum Step: Equatable {
        /// Send this payload (with the next sequence id) and read the answer.
        case send([UInt8])
        /// Send nothing; read the next packet.
        case read
        /// Logged in.
        case done
    }

    package let credentials: MySQLCredentials
    private var plugin = ""
    private var nonce: [UInt8] = []
    private var awaitingPublicKey = false
    /// The greeting, once read.
    package private(set) var greeting: MySQLGreeting?

    package init(_ credentials: MySQLCredentials) { self.credentials = credentials }

    /// Reads the greeting; returns the handshake response to send.
    package mutating func respond(toGreeting payload: [UInt8]) throws -> [UInt8] {
        let g = try MySQLGreeting.parse(payload)
        greeting = g
        plugin = g.authPlugin
        nonce = g.nonce
        let proof = try proof(for: plugin)
        let capabilities = MySQLCapability.client & (g.capabilities | MySQLCapability.connectWithDB)
        var out: [UInt8] = []
        let withDB = !credentials.database.isEmpty
        MySQLWriter.fixed(
            UInt64(withDB ? capabilities : capabilities & ~MySQLCapability.connectWithDB), 4, to: &out)
        MySQLWriter.fixed(UInt64(MySQLPacket.maxPayload + 1), 4, to: &out)
        out.append(45)  // utf8mb4_general_ci
        out += [UInt8](repeating: 0, count: 23)
        out += Array(credentials.user.utf8) + [0]
        if capabilities & MySQLCapability.pluginAuthLenencData != 0 {
            MySQLWriter.lenencBytes(proof, to: &out)
        } else {
            out.append(UInt8(proof.count))
            out += proof
        }
        if withDB { out += Array(credentials.database.utf8) + [0] }
        out += Array(plugin.utf8) + [0]
        return out
    }

    /// Reads the server's answer to the last payload sent.
    package mutating func next(_ payload: [UInt8]) throws -> Step {
        guard let first = payload.first else { throw MySQLProtocolError("empty packet during login") }
        switch first {
        case 0x00:
            return .done
        case 0xFF:
            throw MySQLServerError.parse(payload) ?? MySQLProtocolError("truncated error packet during login")
        case 0xFE:
            // Auth switch: plugin name, NUL, new nonce (NUL-terminated).
            var r = MySQLReader(payload, at: 1)
            plugin = String(decoding: try r.nulTerminated("auth plugin name"), as: UTF8.self)
            var data = r.rest()
            if data.last == 0 { data = data.dropLast() }
            nonce = Array(data)
            return .send(try proof(for: plugin))
        case 0x01:
            let data = Array(payload.dropFirst())
            guard plugin == "caching_sha2_password" else {
                throw MySQLProtocolError("unexpected auth-more-data for plugin \(plugin)")
            }
            if awaitingPublicKey {
                awaitingPublicKey = false
                let pem = String(decoding: data, as: UTF8.self)
                return .send(
                    try MySQLAuth.rsaEncryptedPassword(
                        Array(credentials.password.utf8), nonce: nonce, publicKeyPEM: pem))
            }
            switch data.first {
            case 0x03:  // fast auth succeeded; OK follows
                return .read
            case 0x04:  // full authentication: ask for the public key (no TLS here)
                awaitingPublicKey = true
                return .send([0x02])
            default:
                throw MySQLProtocolError(
                    "unknown caching_sha2_password state \(data.first.map { String($0) } ?? "none")")
            }
        default:
            throw MySQLProtocolError("unexpected packet 0x\(String(first, radix: 16)) during login")
        }
    }

    private func proof(for plugin: String) throws -> [UInt8] {
        let password = Array(credentials.password.utf8)
        switch plugin {
        case "mysql_native_password": return MySQLAuth.nativePassword(password, nonce: nonce)
        case "caching_sha2_password": return MySQLAuth.cachingSHA2(password, nonce: nonce)
        default: throw MySQLProtocolError("authentication plugin \(plugin) is not supported")
        }
    }
}
