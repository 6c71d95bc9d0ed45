import Foundation
import Histogram
import Shared

/// Bulk transfer: goodput counted by the receiver, the sender's retransmissions, and the SUT's CPU
/// cycles per byte moved.
extension StreamWorkload: WorkloadMetrics {
    /// The receiving side (it counted goodput) and the sending side.
    static func ends(_ o: StepOutcome) -> (receiver: AgentSide, sender: AgentSide, bytes: UInt64, retransmits: UInt64) {
        let sutSends = spec(o)?.sutSends ?? true
        let receiver = sutSends ? o.peer : o.sut
        let sender = sutSends ? o.sut : o.peer
        let bytes = receiver.result.outcome.as(StreamReceiverResult.self)?.bytes ?? 0
        let retransmits = sender.result.outcome.as(StreamSenderResult.self)?.retransmits ?? 0
        return (receiver, sender, bytes, retransmits)
    }

    static func rows(_ o: StepOutcome, labels: [String: String]) -> [MetricSample] {
        let (receiver, _, bytes, retransmits) = ends(o)
        var out = transfer(side: receiver, bytes: bytes, retransmits: retransmits, labels: labels)
        // The SUT's CPU as its own agent sees it, and the machine's as the host agent meters it (in
        // native the SUT agent is the host).
        let host = o.sides.first { $0.role == .host } ?? o.sut
        for (metric, side) in [(sutCyclesPerByte, o.sut), (hostCyclesPerByte, host)] {
            guard let cpu = side.result.cpu, let cycles = cpu.cycles, bytes > 0 else { continue }
            var c = labels
            c["host"] = side.name
            c["cycles_source"] = cpu.cyclesSource
            out.append(metric.sample(cycles / Double(bytes), c))
        }
        return out
    }

    /// Goodput, bytes and retransmissions as `side` counted them over its own window.
    private static func transfer(side: AgentSide, bytes: UInt64, retransmits: UInt64, labels: [String: String])
        -> [MetricSample]
    {
        let seconds = Double(max(side.result.windowEndNs - side.result.windowStartNs, 1)) / 1e9
        var l = labels
        l["host"] = side.name
        return [
            goodput.sample(Double(bytes) * 8 / seconds / 1e9, l), self.bytes.sample(Double(bytes), l),
            self.retransmits.sample(Double(retransmits), l),
        ]
    }

    /// A peer's rows when several peers stream: a receiving peer's goodput as it counted it; a
    /// sending peer's bytes as its sockets took them inside the window (`counted_by=sender`: the SUT
    /// counts only the total it received, not who sent it).
    static func peerRows(_ o: StepOutcome, peer: AgentSide, labels: [String: String]) -> [MetricSample] {
        guard let s = peer.result.outcome.as(StreamSenderResult.self) else { return rows(o.only(peer), labels: labels) }
        var l = labels
        l["counted_by"] = "sender"
        return transfer(side: peer, bytes: s.bytes, retransmits: s.retransmits, labels: l)
    }

    static let columns: [SummaryColumn] = [
        .step,
        column("direction") { $0.direction.rawValue },
        column("streams") { String($0.streams) },
        .metric("Gbit/s", goodput, "%.2f"), .metric("retrans", retransmits, "%.0f"), .sutCPU,
        .metric("SUT cpu s", CommonMetrics.cpuSeconds(.sut), "%.2f"),
        .metric("SUT cycles/B", sutCyclesPerByte, "%.2f"),
        .text("cycles from") { $0.sut.result.cpu?.cyclesSource ?? "-" },
        .metric("peer cpu%", CommonMetrics.cpuUtil(.peer)), .skew,
    ]

    static let figures: [FigureSpec] = [
        .bars(
            .init(
                id: "bulk", title: "Bulk transfer: goodput and CPU cost",
                caption:
                    "One TCP stream each way (nuttcp-style; the paper's Figs. 1-2): goodput counted by the receiver, and CPU cycles per byte moved on the SUT (its own view) and on the machine under it (the host agent's meter).",
                point: { w in w.spec(StreamSpec.self).map { "\($0.direction.rawValue), \($0.streams) stream(s)" } ?? ""
                },
                charts: [
                    .init("Goodput", yLabel: "Gbit/s", goodput),
                    .init(
                        "CPU cycles per byte", yLabel: "cycles/byte",
                        [(sutCyclesPerByte, "SUT"), (hostCyclesPerByte, "host")]),
                ],
                table: [goodput, sutCyclesPerByte, hostCyclesPerByte]))
    ]

    static var options: (any WorkloadOptions.Type)? { StreamOptions.self }
}
