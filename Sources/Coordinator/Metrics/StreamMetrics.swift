import Foundation
import Histogram
import Shared

/// Bulk transfer: goodput counted by the receiver, the sender's retransmissions, and the SUT's CPU
/// cycles per byte moved.
enum StreamMetrics: WorkloadMetrics {
    /// The receiving side (it counted goodput) and the sending side.
    static func ends(_ o: StepOutcome) -> (receiver: AgentSide, sender: AgentSide, bytes: UInt64, retransmits: UInt64) {
        let sutSends: Bool
        if case .stream(let s) = o.workload { sutSends = s.sutSends } else { sutSends = true }
        let receiver = sutSends ? o.peer : o.sut
        let sender = sutSends ? o.sut : o.peer
        var bytes: UInt64 = 0
        var retransmits: UInt64 = 0
        if case .streamReceiver(let r) = receiver.result.outcome { bytes = r.bytes }
        if case .streamSender(let s) = sender.result.outcome { retransmits = s.retransmits }
        return (receiver, sender, bytes, retransmits)
    }

    static func rows(_ o: StepOutcome, labels: [String: String]) -> [MetricSample] {
        let (receiver, _, bytes, retransmits) = ends(o)
        let seconds = Double(max(receiver.result.windowEndNs - receiver.result.windowStartNs, 1)) / 1e9
        var l = labels
        l["host"] = receiver.name
        var out = [
            MetricSample(metric: "goodput_gbps", value: Double(bytes) * 8 / seconds / 1e9, unit: "Gbit/s", labels: l),
            MetricSample(metric: "bytes", value: Double(bytes), unit: "bytes", labels: l),
            MetricSample(metric: "retransmits", value: Double(retransmits), unit: "segments", labels: l),
        ]
        // The SUT's CPU as its own agent sees it, and the machine's as the host agent meters it (in
        // native the SUT agent is the host).
        let host = o.sides.first { $0.role == .host } ?? o.sut
        for (metric, side) in [("sut_cycles_per_byte", o.sut), ("host_cycles_per_byte", host)] {
            guard let cpu = side.result.cpu, let cycles = cpu.cycles, bytes > 0 else { continue }
            var c = labels
            c["host"] = side.name
            c["cycles_source"] = cpu.cyclesSource
            out.append(MetricSample(metric: metric, value: cycles / Double(bytes), unit: "cycles/byte", labels: c))
        }
        return out
    }

    /// A peer's rows when several peers stream: a receiving peer's goodput as it counted it; a
    /// sending peer's bytes as its sockets took them inside the window (`counted_by=sender`: the SUT
    /// counts only the total it received, not who sent it).
    static func peerRows(_ o: StepOutcome, peer: AgentSide, labels: [String: String]) -> [MetricSample] {
        guard case .streamSender(let s) = peer.result.outcome else { return rows(o.only(peer), labels: labels) }
        let seconds = Double(max(peer.result.windowEndNs - peer.result.windowStartNs, 1)) / 1e9
        var l = labels
        l["host"] = peer.name
        l["counted_by"] = "sender"
        return [
            MetricSample(metric: "goodput_gbps", value: Double(s.bytes) * 8 / seconds / 1e9, unit: "Gbit/s", labels: l),
            MetricSample(metric: "bytes", value: Double(s.bytes), unit: "bytes", labels: l),
            MetricSample(metric: "retransmits", value: Double(s.retransmits), unit: "segments", labels: l),
        ]
    }

    static let columns: [SummaryColumn] = [
        .step,
        .text("direction") {
            guard case .stream(let s) = $0.workload else { return "-" }
            return s.direction.rawValue
        },
        .text("streams") {
            guard case .stream(let s) = $0.workload else { return "-" }
            return String(s.streams)
        },
        .metric("Gbit/s", "goodput_gbps", "%.2f"), .metric("retrans", "retransmits", "%.0f"),
        .metric("SUT cpu%", "sut_cpu_util_pct"), .metric("SUT cpu s", "sut_cpu_seconds", "%.2f"),
        .metric("SUT cycles/B", "sut_cycles_per_byte", "%.2f"),
        .text("cycles from") { $0.sut.result.cpu?.cyclesSource ?? "-" },
        .metric("peer cpu%", "peer_cpu_util_pct"), .metric("skew us", "start_skew_us", "%.0f"),
    ]

    static func latency(_ o: StepOutcome) -> Histogram<UInt64>? { nil }

    static let headline = ["goodput_gbps", "sut_cycles_per_byte", "host_cycles_per_byte"]
}
