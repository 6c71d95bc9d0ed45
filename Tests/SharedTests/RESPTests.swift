import Shared
import Testing

@Suite struct RESPTests {
    @Test func commandsAreArraysOfBulkStrings() {
        #expect(
            String(decoding: RESP.command(["SET", "k000000001", "hello"]), as: UTF8.self)
                == "*3\r\n$3\r\nSET\r\n$10\r\nk000000001\r\n$5\r\nhello\r\n")
        #expect(String(decoding: RESP.command(["PING"]), as: UTF8.self) == "*1\r\n$4\r\nPING\r\n")
    }

    static let stream = Array(
        ("+OK\r\n-ERR wrong type\r\n:-42\r\n$5\r\nhel\r\n\r\n$-1\r\n$0\r\n\r\n*-1\r\n"
            + "*3\r\n:1\r\n*2\r\n+a\r\n$1\r\nb\r\n*0\r\n").utf8)
    static let values: [RESPValue] = [
        .simple("OK"), .error("ERR wrong type"), .integer(-42), .bulk(Array("hel\r\n".utf8)), .bulk(nil),
        .bulk([]), .array(nil), .array([.integer(1), .array([.simple("a"), .bulk(Array("b".utf8))]), .array([])]),
    ]

    @Test func parsesEveryKindInOnePiece() throws {
        var parser = RESPParser()
        parser.append(Self.stream)
        var got: [RESPValue] = []
        while let v = try parser.next() { got.append(v) }
        #expect(got == Self.values)
        #expect(parser.buffered == 0)
    }

    @Test(arguments: [1, 2, 3, 7, 64])
    func parsesTheSameWhenBytesArriveInPieces(chunk: Int) throws {
        var parser = RESPParser()
        var got: [RESPValue] = []
        var i = 0
        while i < Self.stream.count {
            parser.append(Self.stream[i..<min(i + chunk, Self.stream.count)])
            i += chunk
            while let v = try parser.next() { got.append(v) }
        }
        #expect(got == Self.values)
    }

    @Test func scanReportsIncompleteFramesAsNil() throws {
        for cut in 0..<"$5\r\nhello\r\n".utf8.count {
            let bytes = Array("$5\r\nhello\r\n".utf8.prefix(cut))
            let frame = try bytes.withUnsafeBytes { try RESP.scan($0, at: 0) }
            #expect(frame == nil, "cut at \(cut)")
        }
        let whole = try Array("$5\r\nhello\r\n+OK\r\n".utf8).withUnsafeBytes { try RESP.scan($0, at: 0) }
        #expect(whole == RESPFrame(kind: .bulk, payloadStart: 4, payloadCount: 5, integer: 5, end: 11))
    }

    @Test(arguments: [
        "?what\r\n", "$-2\r\n", ":12a\r\n", "+OK\rX", "$3\r\nabcde\r\n", "*-5\r\n", ":\r\n",
        "$99999999999999999999\r\n", "$536870913\r\n",
    ])
    func rejectsWhatIsNotRESP(text: String) {
        var parser = RESPParser()
        parser.append(Array(text.utf8))
        #expect(throws: RESPError.self) { _ = try parser.next() }
    }

    @Test func rejectsEndlessLinesAndDeepNesting() {
        var long = RESPParser()
        long.append([UInt8(ascii: "+")] + [UInt8](repeating: 65, count: RESP.maxLine + 10))
        #expect(throws: RESPError.self) { _ = try long.next() }
        var deep = RESPParser()
        deep.append(Array(String(repeating: "*1\r\n", count: 40).utf8) + Array(":1\r\n".utf8))
        #expect(throws: RESPError.self) { _ = try deep.next() }
    }

    @Test func redisSpecRejectsImpossibleParameters() {
        #expect(RedisSpec(connections: 8).problems().isEmpty)
        #expect(RedisSpec(connections: 0).problems().first?.contains("connections") == true)
        #expect(RedisSpec(connections: 1, pipeline: 0).problems().first?.contains("pipeline") == true)
        #expect(RedisSpec(connections: 1, getRatio: 0, setRatio: 0).problems().first?.contains("ratio") == true)
        #expect(RedisSpec(connections: 1, getRatio: 1, setRatio: 0).problems().first?.contains("GET-only") == true)
        #expect(
            RedisSpec(connections: 1, valueSizeMin: 64, valueSizeMax: 32).problems().first?.contains("value") == true)
        #expect(RedisSpec(connections: 1, keys: 0).problems().first?.contains("keys") == true)
        #expect(
            RedisSpec(connections: 1, server: RedisServerSpec(port: 70000)).problems().first?.contains("port") == true)
    }
}
