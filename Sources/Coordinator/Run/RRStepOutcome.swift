import Foundation
import Histogram
import Shared

/// What one synchronized RR step measured, with the clocks needed to place it on the coordinator's timeline.
struct RRStepOutcome {
    let stepID: String
    let spec: RRSpec
    let peer: SideResult
    let sut: SideResult
    let peerClock: ClockTrack
    let sutClock: ClockTrack
    let intervals: [IntervalSample]

    /// The merged latency histogram of all flows, nanoseconds.
    var latency: Histogram<UInt64> { peer.latency?.histogram() ?? HistogramSnapshot.makeLatencyHistogram() }

    /// Length of the peer's measurement window, on its own clock (no cross-host error).
    var windowSeconds: Double { Double(max(peer.windowEndNs - peer.windowStartNs, 1)) / 1e9 }

    var transactionsPerSecond: Double { Double(peer.transactions) / windowSeconds }

    /// Start skew between the two agents on the coordinator's timeline.
    var startSkewNs: Int64 { abs(sutClock.toCoordinator(sut.startedNs) - peerClock.toCoordinator(peer.startedNs)) }

    /// Error bound of any cross-host comparison in this step (both offsets' bounds).
    var clockErrorNs: Int64 { sutClock.errorNs + peerClock.errorNs }

    /// The measurement window on the coordinator's timeline: the later start to the earlier stop,
    /// within the peer's window after warm-up.
    var window: (start: Int64, end: Int64) {
        let start = max(peerClock.toCoordinator(peer.windowStartNs), sutClock.toCoordinator(sut.startedNs))
        let end = min(peerClock.toCoordinator(peer.windowEndNs), sutClock.toCoordinator(sut.stoppedNs))
        return (start, max(start, end))
    }
}

extension RRStepOutcome {
    /// The step's labels in `samples.jsonl`.
    func labels(runID: String) -> [String: String] {
        [
            "workload": "rr", "protocol": spec.proto.rawValue, "step": stepID, "run": runID,
            "request_bytes": String(spec.requestSize), "response_bytes": String(spec.responseSize),
            "flows": String(spec.flows),
        ]
    }

    /// The step's samples: summary metrics, then one interval sample per second.
    func samples(runID: String) -> [MetricSample] {
        let labels = labels(runID: runID)
        let h = latency
        func us(_ ns: UInt64) -> Double { Double(ns) / 1000 }
        var out: [MetricSample] = [
            MetricSample(
                metric: "transactions_per_sec", value: transactionsPerSecond, unit: "transactions/s", labels: labels),
            MetricSample(
                metric: "transactions", value: Double(peer.transactions), unit: "transactions", labels: labels),
            MetricSample(
                metric: "latency_mean_us", value: h.totalCount > 0 ? h.mean / 1000 : 0, unit: "us", labels: labels),
            MetricSample(metric: "latency_p50_us", value: us(h.valueAtPercentile(50)), unit: "us", labels: labels),
            MetricSample(metric: "latency_p90_us", value: us(h.valueAtPercentile(90)), unit: "us", labels: labels),
            MetricSample(metric: "latency_p99_us", value: us(h.valueAtPercentile(99)), unit: "us", labels: labels),
            MetricSample(metric: "latency_p999_us", value: us(h.valueAtPercentile(99.9)), unit: "us", labels: labels),
            MetricSample(metric: "latency_max_us", value: us(h.max), unit: "us", labels: labels),
            MetricSample(metric: "lost_transactions", value: Double(peer.lost), unit: "transactions", labels: labels),
            MetricSample(metric: "start_skew_us", value: Double(startSkewNs) / 1000, unit: "us", labels: labels),
            MetricSample(
                metric: "clock_offset_error_us", value: Double(clockErrorNs) / 1000, unit: "us", labels: labels),
            MetricSample(metric: "window_seconds", value: windowSeconds, unit: "s", labels: labels),
        ]
        let origin = peer.startedNs
        for interval in intervals {
            var l = labels
            l["kind"] = "interval"
            l["interval"] = String(interval.index)
            l["t_s"] = String(format: "%.3f", Double(interval.tNs - origin) / 1e9)
            l["warmup"] = interval.tNs <= peer.windowStartNs ? "true" : "false"
            let seconds = Double(max(interval.lengthNs, 1)) / 1e9
            out.append(
                MetricSample(
                    metric: "transactions_per_sec", value: Double(interval.transactions) / seconds,
                    unit: "transactions/s", labels: l))
            out.append(
                MetricSample(metric: "lost_transactions", value: Double(interval.lost), unit: "transactions", labels: l)
            )
        }
        return out
    }

    /// The HdrHistogram percentile distribution, in microseconds.
    var hgrm: String {
        var text = ""
        latency.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1000)
        return text
    }

    static let summaryHeader =
        "step,workload,protocol,request_bytes,response_bytes,flows,window_s,transactions,transactions_per_sec,latency_mean_us,latency_p50_us,latency_p90_us,latency_p99_us,latency_p999_us,latency_max_us,lost_transactions,start_skew_us,clock_offset_error_us"

    /// One row of `summary.csv`.
    var summaryRow: String {
        let h = latency
        let cells: [String] = [
            stepID, "rr", spec.proto.rawValue, String(spec.requestSize), String(spec.responseSize), String(spec.flows),
            String(format: "%.3f", windowSeconds), String(peer.transactions),
            String(format: "%.1f", transactionsPerSecond),
            String(format: "%.2f", h.totalCount > 0 ? h.mean / 1000 : 0),
            String(format: "%.2f", Double(h.valueAtPercentile(50)) / 1000),
            String(format: "%.2f", Double(h.valueAtPercentile(90)) / 1000),
            String(format: "%.2f", Double(h.valueAtPercentile(99)) / 1000),
            String(format: "%.2f", Double(h.valueAtPercentile(99.9)) / 1000),
            String(format: "%.2f", Double(h.max) / 1000), String(peer.lost),
            String(format: "%.1f", Double(startSkewNs) / 1000), String(format: "%.1f", Double(clockErrorNs) / 1000),
        ]
        return cells.joined(separator: ",")
    }
}
