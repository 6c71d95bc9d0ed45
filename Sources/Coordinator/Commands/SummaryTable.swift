import Foundation
import Shared

/// The tables printed after a run: one per kind of workload in it.
enum SummaryTable {
    static func render(_ outcomes: [StepOutcome]) -> String {
        var tables: [String] = []
        let rr = outcomes.filter { if case .rr = $0.workload { true } else { false } }
        let stream = outcomes.filter { if case .stream = $0.workload { true } else { false } }
        if !rr.isEmpty { tables.append(table(rrHeader, rr.map(rrRow))) }
        if !stream.isEmpty { tables.append(table(streamHeader, stream.map(streamRow))) }
        let redis = outcomes.filter { if case .redis = $0.workload { true } else { false } }
        if !redis.isEmpty { tables.append(table(redisHeader, redis.map(redisRow))) }
        let mysql = outcomes.filter { if case .mysql = $0.workload { true } else { false } }
        if !mysql.isEmpty { tables.append(table(mysqlHeader, mysql.map(mysqlRow))) }
        return tables.joined(separator: "\n\n")
    }

    static let rrHeader = [
        "step", "test", "req/resp", "flows", "trans/s", "mean us", "p50 us", "p99 us", "p99.9 us", "lost", "SUT cpu%",
        "skew us",
    ]

    static func rrRow(_ o: StepOutcome) -> [String] {
        guard case .rr(let spec) = o.workload else { return [] }
        let h = o.latency
        return [
            o.stepID, "\(spec.proto.rawValue.uppercased())_RR", "\(spec.requestSize)/\(spec.responseSize)",
            String(spec.flows), String(format: "%.0f", o.transactionsPerSecond),
            String(format: "%.1f", h.totalCount > 0 ? h.mean / 1000 : 0),
            String(format: "%.1f", Double(h.valueAtPercentile(50)) / 1000),
            String(format: "%.1f", Double(h.valueAtPercentile(99)) / 1000),
            String(format: "%.1f", Double(h.valueAtPercentile(99.9)) / 1000),
            String(o.peer.lost), percent(o.sut.cpu), String(format: "%.0f", Double(o.startSkewNs) / 1000),
        ]
    }

    static let streamHeader = [
        "step", "direction", "streams", "Gbit/s", "retrans", "SUT cpu%", "SUT cpu s", "SUT cycles/B", "cycles from",
        "peer cpu%", "skew us",
    ]

    static func streamRow(_ o: StepOutcome) -> [String] {
        guard case .stream(let spec) = o.workload else { return [] }
        return [
            o.stepID, spec.direction.rawValue, String(spec.streams), String(format: "%.2f", o.goodputGbps),
            String(o.sender.retransmits ?? 0), percent(o.sut.cpu),
            o.sut.cpu.map { String(format: "%.2f", $0.busySeconds) } ?? "-",
            o.sutCyclesPerByte.map { String(format: "%.2f", $0) } ?? "-", o.sut.cpu?.cyclesSource ?? "-",
            percent(o.peer.cpu), String(format: "%.0f", Double(o.startSkewNs) / 1000),
        ]
    }

    static let redisHeader = [
        "step", "conns", "pipeline", "ops/s", "GET/s", "SET/s", "mean us", "p50 us", "p99 us", "p99.9 us", "errors",
        "hit%", "keys", "redis MiB", "SUT cpu%", "client cpu s/Mop",
    ]

    static func redisRow(_ o: StepOutcome) -> [String] {
        guard case .redis(let spec) = o.workload else { return [] }
        let h = o.latency
        let gets = o.peerCounter("hits") + o.peerCounter("misses")
        return [
            o.stepID, String(spec.connections), String(spec.pipeline), String(format: "%.0f", o.operationsPerSecond),
            String(format: "%.0f", o.peerCounter("get_ops") / o.windowSeconds),
            String(format: "%.0f", o.peerCounter("set_ops") / o.windowSeconds),
            String(format: "%.1f", h.totalCount > 0 ? h.mean / 1000 : 0),
            String(format: "%.1f", Double(h.valueAtPercentile(50)) / 1000),
            String(format: "%.1f", Double(h.valueAtPercentile(99)) / 1000),
            String(format: "%.1f", Double(h.valueAtPercentile(99.9)) / 1000),
            String(format: "%.0f", o.peerCounter("errors")),
            gets > 0 ? String(format: "%.1f", 100 * o.peerCounter("hits") / gets) : "-",
            String(format: "%.0f", o.peerCounter("keys")),
            o.sut.counters?["redis_used_memory_bytes"].map { String(format: "%.1f", $0 / 1_048_576) } ?? "-",
            percent(o.sut.cpu), o.clientCPUSecondsPerMop.map { String(format: "%.3f", $0) } ?? "-",
        ]
    }

    static let mysqlHeader = [
        "step", "mode", "threads", "tx/s", "queries/s", "mean ms", "p95 ms", "p99 ms", "errors", "deadlocks",
        "reconnects", "SUT cpu%", "client cpu s/ktx",
    ]

    static func mysqlRow(_ o: StepOutcome) -> [String] {
        guard case .mysql(let spec) = o.workload else { return [] }
        let h = o.latency
        return [
            o.stepID, spec.mode.rawValue, String(spec.threads),
            String(format: "%.1f", Double(o.peer.transactions) / o.windowSeconds),
            String(format: "%.0f", o.peerCounter("queries") / o.windowSeconds),
            String(format: "%.2f", h.totalCount > 0 ? h.mean / 1e6 : 0),
            String(format: "%.2f", Double(h.valueAtPercentile(95)) / 1e6),
            String(format: "%.2f", Double(h.valueAtPercentile(99)) / 1e6),
            String(format: "%.0f", o.peerCounter("errors")), String(format: "%.0f", o.peerCounter("deadlocks")),
            String(format: "%.0f", o.peerCounter("reconnects")), percent(o.sut.cpu),
            o.peer.transactions > 0
                ? (o.peer.counters?["client_cpu_seconds"]).map {
                    String(format: "%.3f", $0 / (Double(o.peer.transactions) / 1000))
                } ?? "-" : "-",
        ]
    }

    private static func percent(_ cpu: CPUUsage?) -> String {
        cpu?.utilizationPercent.map { String(format: "%.1f", $0) } ?? "-"
    }

    private static func table(_ header: [String], _ body: [[String]]) -> String {
        let rows = [header] + body
        let widths = header.indices.map { c in rows.map { $0[c].count }.max()! }
        return rows.map { row in
            row.enumerated().map { c, cell in
                c <= 1
                    ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
