import NIOCore
import Testing

@testable import Shared

/// Not a fuzzer (issue 6 asks for libFuzzer targets), but a bounded, seeded sweep of mutated frames
/// that runs in every `swift test`: the decoder must answer every input with a message, `nil` (half
/// a frame) or a `WireError`, and never crash, hang or throw anything else.
@Suite struct WireDecoderRobustnessTests {
    @Test func mutatedFramesNeverCrashTheDecoder() throws {
        var rng = SplitMix64(seed: 20_261_127)  // seeded, so failures reproduce
        let seeds = try everyMessage.map { Array(try $0.frame().readableBytesView) }
        var outcomes = (messages: 0, partial: 0, errors: 0)
        for _ in 0..<20_000 {
            var bytes = seeds.randomElement(using: &rng)!
            switch Int.random(in: 0..<5, using: &rng) {
            case 0:  // flip a few bits
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    bytes[i] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
                }
            case 1:  // truncate
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
            case 2:  // random length prefix
                let length = UInt32.random(in: 0...UInt32.max, using: &rng)
                withUnsafeBytes(of: length.bigEndian) { bytes.replaceSubrange(1..<5, with: $0) }
            case 3:  // random payload bytes
                for i in 5..<bytes.count where Bool.random(using: &rng) {
                    bytes[i] = UInt8.random(in: 0...255, using: &rng)
                }
            default:  // splice two frames and cut somewhere
                bytes += seeds.randomElement(using: &rng)!
                bytes = Array(bytes.prefix(Int.random(in: 1...bytes.count, using: &rng)))
            }
            var buffer = ByteBuffer(bytes: bytes)
            var decoder = WireMessageDecoder(maxPayload: 4096)
            do {
                var decoded = false
                while let _ = try decoder.decode(buffer: &buffer) { decoded = true }
                if decoded { outcomes.messages += 1 } else { outcomes.partial += 1 }
            } catch is WireError {
                outcomes.errors += 1
            }
        }
        // Every kind of outcome happened, so the sweep reached past the header checks.
        #expect(outcomes.messages > 100)
        #expect(outcomes.partial > 100)
        #expect(outcomes.errors > 100)
    }
}
