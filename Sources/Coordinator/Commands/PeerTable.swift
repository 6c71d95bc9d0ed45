import Foundation
import Shared

/// The table a run with several peers adds: per step and peer, its share of the load, the
/// workload's first rate and latency, the generator's thread CPU and the peer machine's CPU, read
/// from the rows labelled `peer` (the same rows samples.jsonl holds), so a user sees which
/// generator saturated.
enum PeerTable {
    /// `nil` when no step had more than one peer.
    static func render(_ outcomes: [StepOutcome]) -> String? {
        let split = outcomes.filter { $0.peers.count > 1 }
        guard !split.isEmpty else { return nil }
        var table = [["step", "peer", "share", "rate", "latency", "peer cpu%"]]
        for o in split {
            let rows = o.samples(runID: "").filter { $0.labels["kind"] != "interval" && $0.labels["peer"] != nil }
            let rate = ["transactions_per_sec", "ops_per_sec", "goodput_gbps"]
            let latency = ["latency_mean_us", "latency_mean_ms"]
            for side in o.peers {
                let mine = rows.filter { $0.labels["peer"] == side.name }
                func first(_ names: [String]) -> String {
                    guard let row = mine.first(where: { names.contains($0.metric) }) else { return "-" }
                    return String(format: "%.4g %@", row.value, row.unit)
                }
                let cpu = mine.first { $0.metric == "peer_cpu_util_pct" }.map { String(format: "%.1f", $0.value) }
                table.append([
                    o.stepID, side.name, side.share.map { String($0.loadUnits) } ?? "-", first(rate), first(latency),
                    cpu ?? "-",
                ])
            }
        }
        return "per peer (each peer's share of the load and what it measured)\n" + CLI.columns(table)
    }
}
