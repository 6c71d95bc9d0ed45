import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// One client connection of the Redis load generator: a nonblocking socket, its input and output
/// buffers (allocated once) and the requests in flight, oldest first. Owned by one worker thread.
final class RedisConnection {
    let fd: Int32
    /// Requests in flight.
    private(set) var inFlight = 0
    /// Whether output is waiting for the socket to drain (EPOLLOUT wanted).
    var wantsWrite: Bool { outSent < outLength }

    private let pipeline: Int
    private let opCycle: Int
    private let setsPerCycle: Int
    private var opCounter: Int
    // Ring of requests in flight: kind (0 GET, 1 SET), key, send time.
    private let ringKinds: UnsafeMutablePointer<UInt8>
    private let ringKeys: UnsafeMutablePointer<Int>
    private let ringSent: UnsafeMutablePointer<Int64>
    private var ringHead = 0
    // Output: requests encoded but not yet written.
    private let out: UnsafeMutableRawPointer
    private let outCapacity: Int
    private var outLength = 0
    private var outSent = 0
    // Input: bytes read but not yet parsed.
    private var input: UnsafeMutableRawPointer
    private var inputCapacity: Int
    private var inputStart = 0
    private var inputEnd = 0

    init(fd: Int32, spec: RedisSpec, index: Int) {
        self.fd = fd
        pipeline = spec.pipeline
        opCycle = spec.getRatio + spec.setRatio
        setsPerCycle = spec.setRatio
        opCounter = index  // connections start at different points of the mix
        ringKinds = .allocate(capacity: spec.pipeline)
        ringKeys = .allocate(capacity: spec.pipeline)
        ringSent = .allocate(capacity: spec.pipeline)
        outCapacity = spec.pipeline * (spec.valueSizeMax + 64)
        out = .allocate(byteCount: outCapacity, alignment: 64)
        inputCapacity = max(65_536, 2 * (spec.valueSizeMax + 32))
        input = .allocate(byteCount: inputCapacity, alignment: 64)
    }

    deinit {
        ringKinds.deallocate()
        ringKeys.deallocate()
        ringSent.deallocate()
        out.deallocate()
        input.deallocate()
        close(fd)
    }

    /// Encodes requests until `pipeline` are in flight, each stamped `now`.
    @inline(__always)
    func fill(keys: RedisKeySpace, rng: inout SplitMix64, now: Int64) {
        while inFlight < pipeline { issue(keys: keys, rng: &rng, sentNs: now) }
    }

    /// Whether another request fits in the pipeline.
    var hasRoom: Bool { inFlight < pipeline }

    /// Encodes the next request of the mix, its latency counted from `sentNs` (open loop: its
    /// intended time). The caller checks ``hasRoom``.
    @inline(__always)
    func issue(keys: RedisKeySpace, rng: inout SplitMix64, sentNs: Int64) {
        let slot = opCounter % opCycle
        opCounter &+= 1
        let existing = keys.created
        // A GET before any key exists becomes a SET; a SET past the cap overwrites a key.
        let isSet = slot < setsPerCycle || existing == 0
        let key =
            isSet
            ? keys.newKey() ?? Int(rng.next() % UInt64(max(existing, 1)))
            : Int(rng.next() % UInt64(existing))
        encode(isSet: isSet, key: key, keys: keys)
        let at = (ringHead + inFlight) % pipeline
        ringKinds[at] = isSet ? 1 : 0
        ringKeys[at] = key
        ringSent[at] = sentNs
        inFlight += 1
    }

    private static let setHeader = Array("*3\r\n$3\r\nSET\r\n$10\r\n".utf8)
    private static let getHeader = Array("*2\r\n$3\r\nGET\r\n$10\r\n".utf8)

    @inline(__always)
    private func encode(isSet: Bool, key: Int, keys: RedisKeySpace) {
        var p = out + outLength
        let header = isSet ? Self.setHeader : Self.getHeader
        header.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        p += header.count
        RedisKeySpace.writeKey(keys.name(key), to: p)
        p += 10
        p.storeBytes(of: 13, as: UInt8.self)
        p.storeBytes(of: 10, toByteOffset: 1, as: UInt8.self)
        p += 2
        if isSet {
            keys.withValue(key) { value in
                p.storeBytes(of: UInt8(ascii: "$"), as: UInt8.self)
                p += 1
                p += Self.writeDecimal(value.count, to: p)
                p.storeBytes(of: 13, as: UInt8.self)
                p.storeBytes(of: 10, toByteOffset: 1, as: UInt8.self)
                p += 2
                p.copyMemory(from: value.baseAddress!, byteCount: value.count)
                p += value.count
                p.storeBytes(of: 13, as: UInt8.self)
                p.storeBytes(of: 10, toByteOffset: 1, as: UInt8.self)
                p += 2
            }
        }
        outLength = p - out
    }

    @inline(__always)
    private static func writeDecimal(_ value: Int, to p: UnsafeMutableRawPointer) -> Int {
        var digits = 1
        var v = value
        while v >= 10 {
            digits += 1
            v /= 10
        }
        v = value
        for i in stride(from: digits - 1, through: 0, by: -1) {
            p.storeBytes(of: UInt8(ascii: "0") + UInt8(v % 10), toByteOffset: i, as: UInt8.self)
            v /= 10
        }
        return digits
    }

    /// Writes what the socket takes. Returns `false` on a socket error (`errno` set).
    @inline(__always)
    func flush() -> Bool {
        while outSent < outLength {
            let n = send(fd, out + outSent, outLength - outSent, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            if n > 0 {
                outSent += n
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                return true
            } else {
                return false
            }
        }
        outSent = 0
        outLength = 0
        return true
    }

    /// What one read produced.
    enum ReadResult {
        /// Bytes arrived (or none were ready).
        case ok
        /// The server closed the connection.
        case closed
        /// A socket error (`errno` set).
        case failed
    }

    /// Reads what is available into the input buffer.
    @inline(__always)
    func read() -> ReadResult {
        if inputStart == inputEnd {
            inputStart = 0
            inputEnd = 0
        } else if inputEnd == inputCapacity {
            if inputStart > 0 {
                (input).copyMemory(from: input + inputStart, byteCount: inputEnd - inputStart)
                inputEnd -= inputStart
                inputStart = 0
            } else {
                grow()
            }
        }
        while true {
            let n = recv(fd, input + inputEnd, inputCapacity - inputEnd, Int32(MSG_DONTWAIT))
            if n > 0 {
                inputEnd += n
                return .ok
            }
            if n == 0 { return .closed }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK ? .ok : .failed
        }
    }

    private func grow() {
        let bigger = UnsafeMutableRawPointer.allocate(byteCount: inputCapacity * 2, alignment: 64)
        bigger.copyMemory(from: input, byteCount: inputEnd)
        input.deallocate()
        input = bigger
        inputCapacity *= 2
    }

    /// Matches every complete reply in the input buffer with its request, oldest first, checks
    /// every GET hit's value against what a SET of that key writes, and hands each reply to
    /// `tally`. Throws on bytes that are not RESP or a reply the request cannot have.
    @inline(__always)
    func takeReplies(keys: RedisKeySpace, _ tally: (RedisReply) -> Void) throws(RESPError) {
        let buffer = UnsafeRawBufferPointer(start: input, count: inputEnd)
        while inFlight > 0, let frame = try RESP.scan(buffer, at: inputStart) {
            let isSet = ringKinds[ringHead] == 1
            let key = ringKeys[ringHead]
            let sent = ringSent[ringHead]
            let outcome: RedisReply.Outcome
            switch frame.kind {
            case .error:
                outcome = .error
            case .simple where isSet:
                outcome = .stored
            case .bulk where !isSet:
                let matches = keys.withValue(key) { expected in
                    expected.count == frame.payloadCount
                        && memcmp(expected.baseAddress!, input + frame.payloadStart, expected.count) == 0
                }
                outcome = matches ? .hit : .mismatch
            case .nullBulk where !isSet:
                outcome = .miss
            default:
                throw RESPError("\(isSet ? "SET" : "GET") answered with a \(frame.kind) reply")
            }
            inputStart = frame.end
            ringHead = ringHead + 1 == pipeline ? 0 : ringHead + 1
            inFlight -= 1
            tally(RedisReply(isSet: isSet, outcome: outcome, sentNs: sent))
        }
        if inFlight == 0 && inputStart < inputEnd {
            throw RESPError("\(inputEnd - inputStart) bytes arrived with no request in flight")
        }
    }
}

/// One reply matched with its request.
struct RedisReply {
    /// What the reply said.
    enum Outcome {
        case stored, hit, miss, mismatch, error
    }
    /// Whether the request was a SET.
    var isSet: Bool
    /// What the reply said.
    var outcome: Outcome
    /// When the request went out.
    var sentNs: Int64
}
