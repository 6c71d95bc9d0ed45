import Foundation
import Shared

extension StepOutcome {
    /// Bulk: the side that received (and so counted goodput).
    var receiver: SideResult {
        guard case .stream(let s) = workload else { return peer }
        return s.sutSends ? peer : sut
    }

    /// Bulk: the side that sent (and so knows its retransmissions).
    var sender: SideResult {
        guard case .stream(let s) = workload else { return sut }
        return s.sutSends ? sut : peer
    }

    /// Bulk: payload bytes received inside the window.
    var bytes: UInt64 { receiver.bytes ?? 0 }

    /// Bulk: goodput in Gbit/s over the receiver's window, on its own clock.
    var goodputGbps: Double {
        let seconds = Double(max(receiver.windowEndNs - receiver.windowStartNs, 1)) / 1e9
        return Double(bytes) * 8 / seconds / 1e9
    }

    /// Bulk: SUT CPU cycles per byte moved (measured or estimated: see the SUT's `cyclesSource`).
    var sutCyclesPerByte: Double? {
        guard let cycles = sut.cpu?.cycles, bytes > 0 else { return nil }
        return cycles / Double(bytes)
    }

    /// Bulk: the summary metrics (CPU utilization and seconds come from the common samples).
    func streamSamples(_ spec: StreamSpec, labels: [String: String]) -> [MetricSample] {
        var l = labels
        l["host"] = spec.sutSends ? peerName : sutName
        var out = [
            MetricSample(metric: "goodput_gbps", value: goodputGbps, unit: "Gbit/s", labels: l),
            MetricSample(metric: "bytes", value: Double(bytes), unit: "bytes", labels: l),
            MetricSample(metric: "retransmits", value: Double(sender.retransmits ?? 0), unit: "segments", labels: l),
        ]
        if let cpb = sutCyclesPerByte, let source = sut.cpu?.cyclesSource {
            var c = labels
            c["host"] = sutName
            c["cycles_source"] = source
            out.append(MetricSample(metric: "sut_cycles_per_byte", value: cpb, unit: "cycles/byte", labels: c))
        }
        return out
    }
}
