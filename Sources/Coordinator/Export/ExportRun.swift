import Crypto
import Foundation
import Shared

/// A results directory as the exporters read it: the run, its testbed, every sample with its
/// wall-clock time, and the aggregates. A step's summary samples are stamped with the end of its
/// window, an interval sample with its second's end (`run.json`'s `clock_origin` maps the
/// coordinator's monotonic windows to wall time; a run.json without it stamps each step a
/// millisecond after the run's start, in order).
struct ExportRun {
    /// A sample and when it was taken.
    struct Stamped {
        var sample: MetricSample
        var time: Date
        var interval: Bool
    }

    var run: ReportRun
    var info: RunInfo
    var testbed: Testbed
    var samples: [Stamped]

    init(_ directory: String, name: String) throws {
        run = ReportRun.load(directory, name: name)
        guard let info = run.info else {
            throw ResultsError(.results, run.missing.first ?? "\(directory): not a results directory")
        }
        self.info = info
        testbed = Testbed(info)
        let started = Regressions.parseDate(info.started_at) ?? Date(timeIntervalSince1970: 0)
        var windows: [String: (start: Date, end: Date)] = [:]
        for (i, step) in info.steps.enumerated() {
            if let origin = info.clock_origin, let wall = origin.interval(step.window_start_ns, step.window_end_ns) {
                windows[step.id] = (wall.start, wall.end)
            } else {
                let t = started.addingTimeInterval(Double(i + 1) / 1000)
                windows[step.id] = (t, t)
            }
        }
        let warmups = Dictionary(
            (info.plan ?? []).map { ($0.id, Double($0.spec.timing.warmupNs) / 1e9) }, uniquingKeysWith: { a, _ in a })
        var stamped: [Stamped] = []
        for s in run.samples {
            guard let step = s.labels["step"], let window = windows[step] else { continue }
            stamped.append(Stamped(sample: s, time: window.end, interval: false))
        }
        for s in run.intervals {
            guard let step = s.labels["step"], let window = windows[step], let t = Double(s.labels["t_s"] ?? "")
            else { continue }
            let warmup = warmups[s.labels["cell"] ?? step] ?? warmups[step] ?? 0
            stamped.append(Stamped(sample: s, time: window.start.addingTimeInterval(t - warmup), interval: true))
        }
        samples = stamped
    }

    /// A UUID made from `text` (SHA-256, version 4 and variant bits set): the same sample gets the
    /// same id in every export.
    static func uuid(_ text: String) -> String {
        var bytes = Array(SHA256.hash(data: Data(text.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let parts = [
            hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4),
            hex.dropFirst(20),
        ]
        return parts.joined(separator: "-")
    }
}
