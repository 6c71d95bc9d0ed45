import Shared
import Synchronization

/// The keys and values of the Redis mix. Key `i` is `k` followed by `i` in 9 digits (exactly 10
/// characters). Its value's length and bytes follow from `i` and the seed alone, so any GET can be
/// checked against what a SET of the same key wrote, whichever connection wrote it.
///
/// Keys are created in order: each SET takes the next new key until the cap is reached (then SETs
/// overwrite existing keys), so a long run grows the data set the way the paper's did.
final class RedisKeySpace: Sendable {
    /// The most keys this run creates.
    let cap: Int
    private let minSize: Int
    private let spread: UInt64
    private let seed: UInt64
    /// Letters values are cut from: a value is a window into this, starting where the key says.
    private let pattern: [UInt8]
    private static let patternWindow = 4096
    private let issued = Atomic<Int>(0)
    /// This peer's slice of the key space when several peers share the point.
    private let partition: KeyPartition

    init(spec: RedisSpec) {
        partition = spec.partition ?? KeyPartition(index: 0, count: 1)
        // Every key of the slice must fit the 9 digits.
        cap = min(spec.keys ?? RedisSpec.maxKeys, (RedisSpec.maxKeys - partition.index) / partition.count)
        minSize = spec.valueSizeMin
        spread = UInt64(spec.valueSizeMax - spec.valueSizeMin + 1)
        seed = spec.seed
        var rng = SplitMix64(seed: spec.seed)
        pattern = (0..<(spec.valueSizeMax + Self.patternWindow)).map { _ in UInt8(ascii: "a") + UInt8(rng.next() % 26) }
    }

    /// Keys created so far (SETs issued for new keys), at most the cap.
    var created: Int { min(issued.load(ordering: .relaxed), cap) }

    /// The next new key, or `nil` once the cap is reached.
    @inline(__always)
    func newKey() -> Int? {
        guard issued.load(ordering: .relaxed) < cap else { return nil }
        let i = issued.wrappingAdd(1, ordering: .relaxed).oldValue
        return i < cap ? i : nil
    }

    /// The value length of key `i`.
    @inline(__always)
    func valueLength(_ i: Int) -> Int {
        spread == 1 ? minSize : minSize + Int(SplitMix64.mix(UInt64(i) ^ seed) % spread)
    }

    /// The value bytes of key `i` are `pattern[valueOffset(i) ..< valueOffset(i) + valueLength(i)]`.
    @inline(__always)
    func valueOffset(_ i: Int) -> Int { Int(SplitMix64.mix(UInt64(i) &+ seed &* 31) % UInt64(Self.patternWindow)) }

    /// Calls `body` with key `i`'s value bytes.
    @inline(__always)
    func withValue<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let offset = valueOffset(i)
        let length = valueLength(i)
        return pattern.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + length)])) }
    }

    /// The key this generator's key `i` names in the server (its slice of the key space).
    @inline(__always)
    func name(_ i: Int) -> Int { partition.key(i) }

    /// Writes key `i` (10 bytes) at `to`.
    @inline(__always)
    static func writeKey(_ i: Int, to: UnsafeMutableRawPointer) {
        to.storeBytes(of: UInt8(ascii: "k"), as: UInt8.self)
        var n = i
        for position in stride(from: 9, through: 1, by: -1) {
            to.storeBytes(of: UInt8(ascii: "0") + UInt8(n % 10), toByteOffset: position, as: UInt8.self)
            n /= 10
        }
    }

    /// Key `i` as text.
    static func key(_ i: Int) -> String {
        var bytes = [UInt8](repeating: 0, count: 10)
        bytes.withUnsafeMutableBytes { writeKey(i, to: $0.baseAddress!) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
