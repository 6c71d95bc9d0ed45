import Foundation
import Histogram
import Testing

@testable import Shared

@Suite struct ModelTests {
    @Test(arguments: [
        ("127.0.0.1:80", Endpoint(host: "127.0.0.1", port: 80)),
        ("[::1]:9000", Endpoint(host: "::1", port: 9000)),
        ("sut.lab:0", Endpoint(host: "sut.lab", port: 0)),
    ])
    func endpointParses(_ text: String, _ expected: Endpoint) {
        #expect(Endpoint(parsing: text) == expected)
        #expect(Endpoint(parsing: expected.description) == expected)
    }

    @Test(arguments: ["127.0.0.1", ":80", "host:99999", "host:-1", "[::1]80", "host:x"])
    func endpointRefuses(_ text: String) {
        #expect(Endpoint(parsing: text) == nil)
    }

    @Test func rrSpecProblems() {
        #expect(RRSpec().problems().isEmpty)
        #expect(RRSpec(responseSize: 0).problems().first?.contains("response size") == true)
        #expect(RRSpec(requestSize: 70_000).problems().first?.contains("request size") == true)
        #expect(RRSpec(flows: 0).problems().first?.contains("flows") == true)
    }

    @Test func timingAndPlacementProblemsBelongToTheEnvelope() {
        #expect(StepTiming(durationNs: -1).problems().first?.contains("duration") == true)
        #expect(StepTiming(warmupNs: -1).problems().first?.contains("warm-up") == true)
        #expect(Placement(sutCPUs: []).problems().first?.contains("--sut-cpus needs at least one CPU") == true)
        #expect(Placement(peerCPUs: [0, 4096]).problems().first?.contains("CPU 4096") == true)
        let step = StepSpec(
            runID: "r", stepID: "s", role: .sut, timing: StepTiming(durationNs: 0), placement: Placement(bindHost: ""),
            workload: Workload(RRSpec(flows: 0)))
        #expect(step.problems().count == 3)
        #expect(Placement().bindHost == Placement.defaultBindHost)
    }

    @Test func histogramSnapshotsMergeExactly() {
        var a = HistogramSnapshot.makeLatencyHistogram()
        var b = HistogramSnapshot.makeLatencyHistogram()
        for v in stride(from: UInt64(10_000), to: 60_000, by: 7) { a.record(v) }
        for v in stride(from: UInt64(20_000), to: 900_000, by: 13) { b.record(v) }
        var direct = a
        direct.add(b)
        var viaWire = HistogramSnapshot(a).histogram()
        viaWire.add(HistogramSnapshot(b).histogram())
        #expect(viaWire.totalCount == direct.totalCount)
        for p in [50.0, 90, 99, 99.9] {
            #expect(viaWire.valueAtPercentile(p) == direct.valueAtPercentile(p))
        }
        // The exact maximum is not carried, only its bucket: equal within the histogram's resolution.
        #expect(direct.valuesAreEquivalent(viaWire.max, direct.max))
        let json = try! JSONEncoder().encode(HistogramSnapshot(direct))
        #expect(try! JSONDecoder().decode(HistogramSnapshot.self, from: json) == HistogramSnapshot(direct))
    }

    @Test func tokenFileMustBePrivate() throws {
        let path = NSTemporaryDirectory() + "lockstep-token-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let token = try Token.generate(at: path)
        #expect(try Token.load(path: path).bytes == token.bytes)
        chmod(path, 0o644)
        let error = try #require(throws: WireError.self) { try Token.load(path: path) }
        #expect(error.code == .tokenFile)
        #expect(error.message.contains("644"))
    }

    @Test func missingTokenFileIsOneClearError() {
        let error = try? #require(throws: WireError.self) { try Token.load(path: "/nonexistent/token") }
        #expect(error?.message.contains("/nonexistent/token") == true)
    }
}

/// Errors are one line whatever they quote (found by the `plan` and `lab` fuzz targets: a YAML key
/// or mode holding carriage returns came back in the error verbatim).
@Suite struct OneLineTests {
    @Test func lineBreaksAndControlsAreEscaped() {
        #expect("unknown mode 'nat\r\r\nive'".oneLine == "unknown mode 'nat\\r\\r\\nive'")
        #expect("a\u{2028}b\u{85}c\u{1}d\u{7F}".oneLine == "a\\u{2028}b\\u{85}c\\u{1}d\\u{7f}")
        #expect("plain: é, 日本".oneLine == "plain: é, 日本")
        #expect(WireError(.planFile, "x\ny").message == "x\\ny")
    }
}
