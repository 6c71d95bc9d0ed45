import Foundation
import Shared

/// The formats of `lockstep export`.
enum ExportFormat: String, CaseIterable, Sendable {
    /// OpenMetrics text with a timestamp on every sample (`promtool tsdb create-blocks-from openmetrics`).
    case openmetrics
    /// InfluxDB line protocol (PerfKitBenchmarker's InfluxDB publisher's shape).
    case influx
    /// Bencher's metric format: each cell's headline metrics with their interval.
    case bmf
    /// Apache Otava's CSV input: one row per run, each cell's headline metric a column.
    case otava
    /// PerfKitBenchmarker's sample JSON, one sample per line.
    case pkb

    /// The export of `runs` in this format.
    func render(_ runs: [ExportRun]) -> String {
        switch self {
        case .openmetrics: Exporters.openMetrics(runs)
        case .influx: Exporters.influx(runs)
        case .bmf: Exporters.bmf(runs)
        case .otava: Exporters.otava(runs)
        case .pkb: Exporters.pkb(runs)
        }
    }
}

/// The exporters, each from the same ``ExportRun``s.
enum Exporters {
    /// Labels that are time, not identity: left out of series labels and tags.
    static let timeLabels: Set<String> = ["t_s", "interval"]

    // MARK: - OpenMetrics

    static func openMetrics(_ runs: [ExportRun]) -> String {
        // family -> series key -> (timestamp, line); one TYPE and HELP per family, series in time order.
        var families: [String: [(series: String, time: Double, line: String)]] = [:]
        for run in runs {
            for s in run.samples {
                let name = "lockstep_" + metricName(s.sample.metric)
                var labels = s.sample.labels.filter { !timeLabels.contains($0.key) }
                labels["unit"] = s.sample.unit
                labels["run_name"] = run.run.name
                if s.interval { labels["kind"] = "interval" }
                let rendered = labels.sorted { $0.key < $1.key }
                    .map { "\(labelName($0.key))=\"\(escapeLabel($0.value))\"" }.joined(separator: ",")
                let time = s.time.timeIntervalSince1970
                families[name, default: []].append(
                    (rendered, time, "\(name){\(rendered)} \(number(s.sample.value)) \(String(format: "%.3f", time))"))
            }
        }
        var out = ""
        for name in families.keys.sorted() {
            let metric = String(name.dropFirst("lockstep_".count))
            out += "# TYPE \(name) gauge\n"
            out += "# HELP \(name) \(escapeHelp(Metric.named(metric)?.help ?? metric))\n"
            var seen = Set<String>()
            for entry in families[name]!.sorted(by: { ($0.series, $0.time) < ($1.series, $1.time) }) {
                // One value per series and millisecond (a repeated row of the same instant is dropped).
                guard seen.insert("\(entry.series)@\(String(format: "%.3f", entry.time))").inserted else { continue }
                out += entry.line + "\n"
            }
        }
        return out + "# EOF\n"
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    static func metricName(_ name: String) -> String {
        var out = String(name.unicodeScalars.map { Character(isNameScalar($0) ? $0 : "_") })
        if let first = out.unicodeScalars.first, ("0"..."9").contains(first) { out = "_" + out }
        return out
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`.
    static func labelName(_ name: String) -> String {
        metricName(name).replacingOccurrences(of: ":", with: "_")
    }

    private static func isNameScalar(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == ":"
    }

    static func escapeLabel(_ v: String) -> String {
        v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func escapeHelp(_ v: String) -> String {
        v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ v: Double) -> String {
        v.isNaN ? "NaN" : v.isInfinite ? (v > 0 ? "+Inf" : "-Inf") : "\(v)"
    }

    // MARK: - Influx line protocol

    static func influx(_ runs: [ExportRun]) -> String {
        var lines: [String] = []
        for run in runs {
            for s in run.samples {
                var tags = s.sample.labels.filter { !timeLabels.contains($0.key) }
                tags["metric"] = s.sample.metric
                tags["unit"] = s.sample.unit
                tags["run_uri"] = run.info.run_id
                tags["testbed"] = run.testbed.fingerprint
                if s.interval { tags["kind"] = "interval" }
                let tagText = tags.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }
                    .map { "\(influxKey($0.key))=\(influxTag($0.value))" }.joined(separator: ",")
                let ns = Int64((s.time.timeIntervalSince1970 * 1e9).rounded())
                guard s.sample.value.isFinite else { continue }
                lines.append("lockstep,\(tagText) value=\(s.sample.value) \(ns)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A tag key or value: commas, equals signs and spaces escaped; other whitespace made `_`
    /// (a tag cannot hold a newline), spaces too, so a line has exactly its three parts.
    static func influxTag(_ v: String) -> String {
        var out = ""
        for c in v {
            switch c {
            case ",", "=", "\\": out += "\\\(c)"
            case " ", "\t", "\n", "\r": out += "_"
            default: out.append(c)
            }
        }
        return out
    }

    static func influxKey(_ v: String) -> String { influxTag(v) }

    // MARK: - Bencher metric format

    static func bmf(_ runs: [ExportRun]) -> String {
        var out: [String: [String: [String: Double]]] = [:]
        for run in runs {
            let headline = Dictionary(
                run.run.cells.map { ($0.id, Set($0.step.workload.metrics.headline)) }, uniquingKeysWith: { a, _ in a })
            for row in run.run.aggregates where headline[row.cell]?.contains(row.metric) == true {
                let benchmark = runs.count > 1 ? "\(run.run.name)/\(row.cell)" : row.cell
                var measure: [String: Double] = ["value": row.mean]
                if let half = row.ci_half_width {
                    measure["lower_value"] = row.mean - half
                    measure["upper_value"] = row.mean + half
                }
                out[benchmark, default: [:]][row.metric] = measure
            }
        }
        return json(out)
    }

    // MARK: - Apache Otava

    static func otava(_ runs: [ExportRun]) -> String {
        var columns: [String] = []
        var rows: [(time: String, values: [String: String])] = []
        for run in runs {
            var values: [String: String] = [
                "run": run.run.name, "run_id": run.info.run_id, "testbed": run.testbed.fingerprint,
                "software": run.testbed.software, "lockstep": run.info.lockstep_version,
            ]
            let headline = Dictionary(
                run.run.cells.map { ($0.id, $0.step.workload.metrics.headline) }, uniquingKeysWith: { a, _ in a })
            for row in run.run.aggregates where headline[row.cell]?.contains(row.metric) == true {
                let column = "\(row.cell).\(row.metric)"
                if !columns.contains(column) { columns.append(column) }
                values[column] = "\(row.mean)"
            }
            rows.append((run.info.started_at, values))
        }
        let attributes = ["run", "run_id", "testbed", "software", "lockstep"]
        var lines = [(["time"] + attributes + columns).map(csv).joined(separator: ",")]
        for row in rows.sorted(by: { $0.time < $1.time }) {
            lines.append(
                ([row.time] + (attributes + columns).map { row.values[$0] ?? "" }).map(csv).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func csv(_ field: String) -> String {
        field.contains(where: { ",\"\n".contains($0) })
            ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }

    // MARK: - PerfKitBenchmarker

    static func pkb(_ runs: [ExportRun]) -> String {
        let owner = ProcessInfo.processInfo.environment["USER"] ?? "lockstep"
        var lines: [String] = []
        for run in runs {
            for (i, s) in run.samples.enumerated() where !s.interval {
                var metadata = s.sample.labels
                metadata["testbed"] = run.testbed.fingerprint
                metadata["lockstep_version"] = run.info.lockstep_version
                let sample: [String: Any] = [
                    "metric": s.sample.metric, "value": s.sample.value, "unit": s.sample.unit, "metadata": metadata,
                    "timestamp": s.time.timeIntervalSince1970, "run_uri": run.info.run_id,
                    "sample_uri": ExportRun.uuid("\(run.info.run_id)/\(i)/\(s.sample.metric)"), "official": false,
                    "product_name": "lockstep", "test": s.sample.labels["workload"] ?? "lockstep", "owner": owner,
                ]
                if let data = try? JSONSerialization.data(
                    withJSONObject: sample, options: [.sortedKeys, .withoutEscapingSlashes])
                {
                    lines.append(String(decoding: data, as: UTF8.self))
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func json(_ value: Any) -> String {
        let data =
            (try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
