import Foundation
import NIOCore
import Testing

@testable import Shared

/// One message of every kind, for round trips.
let everyMessage: [WireMessage] = [
    .hello(Hello(role: "coordinator", name: "c", softwareVersion: "1", nonce: Data(repeating: 7, count: 32))),
    .authenticate(Authenticate(mac: Data([1, 2, 3]))),
    .authenticated(
        Authenticated(
            mac: Data([4]), host: HostFacts(hostname: "h", kernel: "k", cpuModel: "m", cores: 2, softwareVersion: "1"))),
    .clockProbe(ClockProbe(t0: 42)),
    .clockReply(ClockReply(t0: 1, t1: 2, t2: 3)),
    .prepare(
        Prepare(
            step: StepSpec(
                runID: "r", stepID: "s", role: .peer, timing: StepTiming(warmupNs: 0, durationNs: 5),
                placement: Placement(peerCPUs: [1, 3], target: Endpoint(host: "198.18.0.2", port: 5001)),
                workload: Workload(RRSpec(proto: .udp))))),
    .ready(Ready(stepID: "s", endpoint: Endpoint(host: "::1", port: 9))),
    .start(Start(stepID: "s", atNs: -5)),
    .started(Started(stepID: "s", actualNs: 99)),
    .sample(IntervalSample(stepID: "s", index: 3, tNs: 10, lengthNs: 1_000_000_000, transactions: 40_000, lost: 2)),
    .stop(Stop(stepID: "s")),
    .finished(
        Finished(
            stepID: "s",
            result: SideResult(
                startedNs: 1, stoppedNs: 2, windowStartNs: 1, windowEndNs: 2,
                outcome: SideOutcome(RedisServerResult(keys: 3, usedMemoryBytes: nil))))),
    .heartbeat(Heartbeat(tNs: 1)),
    .fetchLog(FetchLog(from: 10)),
    .logBatch(
        LogBatch(records: [LogRecord(tNs: 5, host: "sut", event: "x", fields: ["a": "b"])], next: 1, complete: true)),
    .abort(Abort(reason: "because")),
    .failure(WireFailure(code: .busy, message: "busy")),
    .bye(Bye()),
    .place(Place(mode: .dockerNAT, cpus: [1], image: "lockstep-agent:test", storage: .layered)),
    .placed(
        Placed(
            mode: .netnsNAT, guestPorts: GuestPorts(base: 7470),
            published: [PortMapping(guestPort: 7470, hostPort: 40001)],
            guestBindHost: "198.18.101.2",
            setup: ModeSetup(commands: ["ip netns add lockstep-abc123"], rules: "table ip t {}"))),
    .release(Release()),
    .released(Released(removed: ["netns-nat guest abc123"])),
]

@Suite struct WireCodecTests {
    @Test func everyKindIsCovered() {
        #expect(Set(everyMessage.map(\.kind)) == Set(WireMessage.Kind.allCases))
    }

    @Test(arguments: everyMessage)
    func roundTrip(_ message: WireMessage) throws {
        var buffer = try message.frame()
        var decoder = WireMessageDecoder()
        #expect(try decoder.decode(buffer: &buffer) == message)
        #expect(buffer.readableBytes == 0)
    }

    @Test(arguments: everyMessage)
    func byteAtATime(_ message: WireMessage) throws {
        let frame = try message.frame()
        var decoder = WireMessageDecoder()
        var buffer = ByteBuffer()
        var decoded: [WireMessage] = []
        for byte in frame.readableBytesView {
            buffer.writeInteger(byte)
            if let m = try decoder.decode(buffer: &buffer) { decoded.append(m) }
        }
        #expect(decoded == [message])
    }

    @Test func twoFramesInOneRead() throws {
        var buffer = try WireMessage.heartbeat(Heartbeat(tNs: 1)).frame()
        var second = try WireMessage.bye(Bye()).frame()
        buffer.writeBuffer(&second)
        var decoder = WireMessageDecoder()
        #expect(try decoder.decode(buffer: &buffer) == .heartbeat(Heartbeat(tNs: 1)))
        #expect(try decoder.decode(buffer: &buffer) == .bye(Bye()))
        #expect(try decoder.decode(buffer: &buffer) == nil)
    }

    @Test func oversizedLengthIsRefusedBeforeThePayload() throws {
        var buffer = ByteBuffer(bytes: [WireMessage.Kind.hello.rawValue, 0xFF, 0xFF, 0xFF, 0xFF])
        var decoder = WireMessageDecoder(maxPayload: 1024)
        let error = try #require(throws: WireError.self) { try decoder.decode(buffer: &buffer) }
        #expect(error.code == .frameTooLarge)
        #expect(error.bytes == [1, 0xFF, 0xFF, 0xFF, 0xFF])
    }

    @Test func unknownTypeIsMalformed() throws {
        var buffer = ByteBuffer(bytes: [0xEE, 0, 0, 0, 0])
        var decoder = WireMessageDecoder()
        let error = try #require(throws: WireError.self) { try decoder.decode(buffer: &buffer) }
        #expect(error.code == .malformedFrame)
        #expect(error.bytes.first == 0xEE)
    }

    @Test func garbagePayloadCarriesItsBytes() throws {
        var buffer = ByteBuffer(bytes: [WireMessage.Kind.start.rawValue, 0, 0, 0, 3] + Array("{x]".utf8))
        var decoder = WireMessageDecoder()
        let error = try #require(throws: WireError.self) { try decoder.decode(buffer: &buffer) }
        #expect(error.code == .malformedFrame)
        #expect(error.bytes.suffix(3) == Array("{x]".utf8))
        #expect(error.description.contains("7b 78 5d"))
    }

    @Test func halfHeaderIsNotAnError() throws {
        var buffer = ByteBuffer(bytes: [WireMessage.Kind.hello.rawValue, 0])
        var decoder = WireMessageDecoder()
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(buffer.readableBytes == 2)
    }
}
