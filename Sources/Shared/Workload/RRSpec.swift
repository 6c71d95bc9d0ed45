/// Transport of a request/response test.
package enum RRProtocol: String, Codable, Sendable, CaseIterable {
    case tcp
    case udp
}

/// A netperf-style request/response test: each flow keeps exactly one transaction in flight.
package struct RRSpec: OpenLoopSpec {
    /// TCP or UDP.
    package var proto: RRProtocol
    /// Request size in bytes (netperf default 1, paper 100).
    package var requestSize: Int
    /// Response size in bytes (paper 200).
    package var responseSize: Int
    /// Concurrent flows, each with one transaction in flight.
    package var flows: Int
    /// A UDP request whose response has not come within this time counts as lost.
    package var lossTimeoutNs: Int64
    /// Open loop: intended transactions per second over all flows (each flow still has one in
    /// flight); `nil`: closed loop.
    package var rate: Double?
    /// Open loop: how the intended send times are spaced; `nil`: uniform.
    package var arrivals: Arrivals?

    package init(
        proto: RRProtocol = .tcp, requestSize: Int = 100, responseSize: Int = 200, flows: Int = 1,
        lossTimeoutNs: Int64 = 50_000_000
    ) {
        self.proto = proto
        self.requestSize = requestSize
        self.responseSize = responseSize
        self.flows = flows
        self.lossTimeoutNs = lossTimeoutNs
    }

    /// Largest request or response accepted (UDP datagrams must fit one datagram).
    package static let maxMessageSize = 65_000

    /// Checks the parameters; returns one line per problem, empty when valid.
    package func problems() -> [String] {
        var out: [String] = []
        if !(1...Self.maxMessageSize).contains(requestSize) {
            out.append("request size must be 1...\(Self.maxMessageSize) bytes, got \(requestSize)")
        }
        if !(1...Self.maxMessageSize).contains(responseSize) {
            out.append("response size must be 1...\(Self.maxMessageSize) bytes, got \(responseSize)")
        }
        if !(1...1024).contains(flows) { out.append("flows must be 1...1024, got \(flows)") }
        if lossTimeoutNs <= 0 { out.append("loss timeout must be positive") }
        return out + OpenLoop.problems(rate)
    }

    /// Whether UDP messages carry an 8-byte sequence tag so a late response is not taken for the next one.
    package var tagsSequence: Bool { requestSize >= 8 && responseSize >= 8 }

    /// Where the SUT's two stamps sit in a response: after the UDP sequence tag.
    package var stampOffset: Int { proto == .udp ? 8 : 0 }

    /// Whether each response carries the SUT's receive and send stamps (two 8-byte clock readings),
    /// from which the peer reads both one-way delays and the SUT's own time: responses of at least
    /// 16 bytes (TCP) or 24 with the sequence tag (UDP).
    package var carriesStamps: Bool { (proto == .tcp || tagsSequence) && responseSize >= stampOffset + 16 }
}

extension RRSpec {
    package static let kind = "rr"

    package var labels: [String: String] {
        [
            "protocol": proto.rawValue, "request_bytes": String(requestSize), "response_bytes": String(responseSize),
            "flows": String(flows),
        ].merging(OpenLoop.labels(rate)) { a, _ in a }.merging(arrivals == .poisson ? ["arrivals": "poisson"] : [:]) {
            a, _ in a
        }
    }

    package var stepName: String {
        "rr-\(proto.rawValue)" + OpenLoop.suffix(rate) + (rate != nil && arrivals == .poisson ? "-poisson" : "")
    }

    package var summary: String {
        "\(proto.rawValue.uppercased())_RR \(requestSize)/\(responseSize) bytes, \(flows) flow(s)"
            + OpenLoop.summary(rate) + (rate != nil && arrivals == .poisson ? " (Poisson arrivals)" : "")
    }

}
