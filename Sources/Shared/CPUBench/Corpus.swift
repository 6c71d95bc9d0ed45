import Crypto

/// The compression workload's input: `size` bytes generated from `seed`, the same everywhere (its
/// sha256 is recorded with each result). Blocks of 64 KiB alternate between a text-like kind
/// (words of a fixed vocabulary with a skewed frequency, spaces, punctuation and line breaks, as
/// prose or logs compress) and a binary-like kind (a run of random bytes, a stretch over a small
/// alphabet, and a repeat of an earlier stretch, as executables and tables compress).
package enum Corpus {
    /// Bytes per block.
    package static let blockSize = 64 * 1024

    /// Calls `body` with consecutive chunks (one block each, the last one cut) that add up to `size`.
    package static func generate(seed: UInt64, size: Int, _ body: ([UInt8]) throws -> Void) rethrows {
        var rng = SplitMix64(seed: seed)
        let vocabulary = Self.vocabulary
        var block: [UInt8] = []
        block.reserveCapacity(blockSize)
        var written = 0
        var index = 0
        while written < size {
            block.removeAll(keepingCapacity: true)
            if index % 2 == 0 {
                text(&block, &rng, vocabulary)
            } else {
                binary(&block, &rng)
            }
            let cut = min(block.count, size - written)
            try body(cut == block.count ? block : Array(block[..<cut]))
            written += cut
            index += 1
        }
    }

    /// The corpus's sha256, lowercase hex.
    package static func sha256(seed: UInt64, size: Int) -> String {
        var hash = SHA256()
        generate(seed: seed, size: size) { hash.update(data: $0) }
        return hex(hash.finalize())
    }

    /// A digest as lowercase hex.
    package static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { byte in
            let s = String(byte, radix: 16)
            return byte < 16 ? "0" + s : s
        }.joined()
    }

    /// 512 words of 2 to 9 letters, the same for every seed.
    static let vocabulary: [[UInt8]] = {
        var rng = SplitMix64(seed: 0x6c6f_636b_7374_6570)
        let letters = Array("etaoinshrdlcumwfgypbvkjxqz".utf8)
        return (0..<512).map { _ in
            let length = 2 + Int(rng.next() % 8)
            // Frequent letters more often: the minimum of two draws skews towards the front.
            return (0..<length).map { _ in letters[Int(min(rng.next() % 26, rng.next() % 26))] }
        }
    }()

    private static func text(_ block: inout [UInt8], _ rng: inout SplitMix64, _ vocabulary: [[UInt8]]) {
        var column = 0
        while block.count < blockSize {
            let r = rng.next()
            // Zipf-like: the product of two uniform draws favours the first words.
            let word = vocabulary[Int((r & 0x1FF) * ((r >> 9) & 0x1FF) / 512)]
            block.append(contentsOf: word)
            column += word.count + 1
            switch (r >> 20) & 0x1F {
            case 0: block.append(UInt8(ascii: "."))
            case 1: block.append(UInt8(ascii: ","))
            default: break
            }
            if column > 72 {
                block.append(UInt8(ascii: "\n"))
                column = 0
            } else {
                block.append(UInt8(ascii: " "))
            }
        }
        block.removeLast(block.count - blockSize)
    }

    private static func binary(_ block: inout [UInt8], _ rng: inout SplitMix64) {
        while block.count < blockSize {
            let r = rng.next()
            let length = 64 + Int((r >> 8) % 960)
            switch r % 3 {
            case 0:  // random bytes: incompressible
                for _ in 0..<(length / 8) {
                    withUnsafeBytes(of: rng.next()) { block.append(contentsOf: $0) }
                }
            case 1:  // a small alphabet: about 2 bits a byte
                var bits = rng.next()
                for i in 0..<length {
                    if i % 32 == 31 { bits = rng.next() }
                    block.append(UInt8(0x40 | (bits & 3)))
                    bits >>= 2
                }
            default:  // a repeat of an earlier stretch in the block
                guard block.count > length else { continue }
                let from = Int(rng.next() % UInt64(block.count - length))
                block.append(contentsOf: block[from..<(from + length)])
            }
        }
        block.removeLast(block.count - blockSize)
    }
}
