import Foundation

/// An RSA public key as a MySQL server sends it for `caching_sha2_password` (PEM: SubjectPublicKeyInfo
/// or PKCS#1), read into its modulus and exponent by lockstep itself. swift-crypto's own PEM and DER
/// readers free their key twice when a key cannot be read (a throwing class initializer frees it and
/// so does its deinit: heap corruption, found by the `mysql` fuzz target), so a server's key reaches
/// swift-crypto only as two integers (`_RSA.Encryption.PublicKey(n:e:)`), whose path has no such free.
package enum RSAPublicKeyDER {
    /// `(n, e)` big-endian without leading zeros; `nil` when the text is no RSA public key in PEM.
    package static func parse(pem: String) -> (n: [UInt8], e: [UInt8])? {
        let lines = pem.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(where: { $0.hasPrefix("-----BEGIN ") && $0.hasSuffix("-----") }),
            let end = lines[(begin + 1)...].firstIndex(where: { $0.hasPrefix("-----END ") && $0.hasSuffix("-----") }),
            let der = Data(base64Encoded: lines[(begin + 1)..<end].joined())
        else { return nil }
        return parse(der: Array(der))
    }

    /// `(n, e)` from DER: SubjectPublicKeyInfo with rsaEncryption, or PKCS#1 RSAPublicKey.
    package static func parse(der: [UInt8]) -> (n: [UInt8], e: [UInt8])? {
        var reader = Reader(der)
        guard let outer = reader.element(tag: 0x30), reader.atEnd else { return nil }
        var body = Reader(outer)
        // PKCS#1: SEQUENCE { INTEGER n, INTEGER e }.
        if let pkcs1 = pkcs1(body) { return pkcs1 }
        // SPKI: SEQUENCE { SEQUENCE { OID 1.2.840.113549.1.1.1, NULL }, BIT STRING { RSAPublicKey } }.
        guard let algorithm = body.element(tag: 0x30), let bits = body.element(tag: 0x03), body.atEnd else {
            return nil
        }
        var alg = Reader(algorithm)
        let rsaEncryption: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]
        guard alg.element(tag: 0x06) == rsaEncryption, bits.first == 0 else { return nil }
        var inner = Reader(Array(bits.dropFirst()))
        guard let key = inner.element(tag: 0x30), inner.atEnd else { return nil }
        return pkcs1(Reader(key))
    }

    private static func pkcs1(_ reader: Reader) -> (n: [UInt8], e: [UInt8])? {
        var r = reader
        guard let n = r.element(tag: 0x02), let e = r.element(tag: 0x02), r.atEnd else { return nil }
        let strip = { (x: [UInt8]) in Array(x.drop { $0 == 0 }) }
        let (nn, ee) = (strip(n), strip(e))
        guard !nn.isEmpty, !ee.isEmpty, nn.count <= 2048, ee.count <= 8 else { return nil }
        return (nn, ee)
    }

    /// DER's tag-length-value, definite lengths only.
    private struct Reader {
        let bytes: [UInt8]
        var at = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { at == bytes.count }

        /// The next element's contents if its tag is `tag`.
        mutating func element(tag: UInt8) -> [UInt8]? {
            guard at + 2 <= bytes.count, bytes[at] == tag else { return nil }
            var length = Int(bytes[at + 1])
            var start = at + 2
            if length & 0x80 != 0 {
                let count = length & 0x7F
                guard (1...3).contains(count), start + count <= bytes.count else { return nil }
                length = bytes[start..<(start + count)].reduce(0) { $0 << 8 | Int($1) }
                start += count
            }
            guard start + length <= bytes.count else { return nil }
            at = start + length
            return Array(bytes[start..<(start + length)])
        }
    }
}
