import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// `--events FILE|-`: newline-delimited JSON events while the run goes (iperf3 `--json-stream`'s
/// shape: one object per line, `{"event": NAME, "data": {...}}`, with `t` the wall-clock time in
/// seconds): `run.start`, `step.start`, `step.ready` and `step.started` (per agent),
/// `interval` (every agent's per-second sample), `step.finished` (its summary samples),
/// `step.failed`, `aggregates` (a plan's cells so far), `run.end`. Lines are written whole, in
/// order, by a writer of their own: a reader that stops reading a pipe stalls only that writer; once
/// `limit` lines wait, new ones are dropped and counted (said when the command ends). A reader that
/// goes away (`lockstep ... --events - | head`) does not end the run: SIGPIPE is ignored once an
/// event stream is opened, so the write fails with EPIPE and its line is counted as dropped.
final class EventStream: RunObserver, @unchecked Sendable {
    private let fd: Int32
    private let lock = NSLock()
    private let writer = DispatchQueue(label: "lockstep.events")
    private let drained = DispatchGroup()
    private var waiting = 0
    private var dropped = 0
    /// Lines that may wait for the reader before new ones are dropped.
    let limit: Int

    /// Writes to `path`, or to standard output for `-`.
    init(path: String, limit: Int = 10_000) throws {
        self.limit = limit
        signal(SIGPIPE, SIG_IGN)
        fd = path == "-" ? dup(1) : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ResultsError(.results, "cannot write events to \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    /// How many lines a reader did not take.
    var droppedLines: Int { lock.withLock { dropped } }

    /// Waits up to `seconds` for the lines written so far to reach the reader; whether they did.
    @discardableResult
    func flush(seconds: Double) -> Bool { drained.wait(timeout: .now() + seconds) == .success }

    private func emit(_ event: String, _ data: [String: Any]) {
        let object: [String: Any] = [
            "event": event, "t": Date().timeIntervalSince1970, "data": data,
        ]
        guard
            var line = try? JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return }
        line.append(0x0A)
        let admitted = lock.withLock {
            guard waiting < limit else {
                dropped += 1
                return false
            }
            waiting += 1
            return true
        }
        guard admitted else { return }
        drained.enter()
        writer.async { [fd, line] in
            var offset = 0
            line.withUnsafeBytes { raw in
                while offset < raw.count {
                    let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n > 0 {
                        offset += n
                    } else if n < 0 && errno == EINTR {
                        continue
                    } else {
                        break
                    }
                }
            }
            self.lock.withLock {
                self.waiting -= 1
                if offset < line.count { self.dropped += 1 }
            }
            self.drained.leave()
        }
    }

    func runBegan(runID: String, directory: String, command: String, startedAt: String) {
        emit(
            "run.start",
            [
                "run": runID, "directory": directory, "command": command,
                "started_at": startedAt,
            ])
    }

    func stepBegan(_ step: ObservedStep, done: Int, total: String, lengthNs: Int64, remainingNs: Int64) {
        var data = Self.fields(step)
        data["done"] = Double(done)
        data["total"] = total
        data["eta_s"] = Double(lengthNs + remainingNs) / 1e9
        emit("step.start", data)
    }

    func logged(_ record: LogRecord) {
        guard ["step.ready", "step.started"].contains(record.event) else { return }
        var data: [String: Any] = ["step": record.stepID ?? ""]
        for (k, v) in record.fields { data[k] = v }
        emit(record.event, data)
    }

    func interval(_ step: ObservedStep, agent: String, role: Role, sample: IntervalSample, load: Bool) {
        var data = Self.fields(step)
        data["agent"] = agent
        data["role"] = role.rawValue
        data["load"] = load
        data["interval"] = Double(sample.index)
        data["seconds"] = sample.seconds
        data["transactions"] = Double(sample.transactions)
        data["lost"] = Double(sample.lost)
        if let bytes = sample.bytes, let gbps = sample.gbps {
            data["bytes"] = Double(bytes)
            data["gbps"] = gbps
        } else {
            data["rate"] = sample.transactionsPerSecond
            data["rate_unit"] = step.rateUnit
        }
        if let latency = sample.meanLatencyUs { data["latency_mean_us"] = latency }
        if let cpu = sample.cpuPercent { data["cpu_pct"] = cpu }
        emit("interval", data)
    }

    func stepFinished(_ step: ObservedStep, samples: [MetricSample], outcome: StepOutcome, windowWall: DateInterval?) {
        var data = Self.fields(step)
        var metrics: [String: Any] = [:]
        for s in samples where s.labels["kind"] != "interval" && s.labels["peer"] == nil && metrics[s.metric] == nil {
            metrics[s.metric] = ["value": s.value, "unit": s.unit]
        }
        data["metrics"] = metrics
        if let windowWall {
            data["window_start"] = windowWall.start.timeIntervalSince1970
            data["window_end"] = windowWall.end.timeIntervalSince1970
        }
        emit("step.finished", data)
    }

    func stepFailed(_ step: ObservedStep, error: String) {
        var data = Self.fields(step)
        data["error"] = error
        emit("step.failed", data)
    }

    func aggregates(_ rows: [AggregateRow]) {
        let cells = rows.filter { $0.headline }.map { row -> [String: Any] in
            var o: [String: Any] = [
                "cell": row.cell, "metric": row.metric, "unit": row.unit,
                "n": Double(row.n), "mean": row.mean, "confidence_met": row.confidence_met,
            ]
            if let half = row.ci_half_width { o["ci_half_width"] = half }
            return o
        }
        emit("aggregates", ["cells": cells])
    }

    func runEnded(status: RunStatus, error: String?) {
        var data: [String: Any] = ["status": status.rawValue]
        if let error { data["error"] = error }
        emit("run.end", data)
    }

    private static func fields(_ step: ObservedStep) -> [String: Any] {
        var data: [String: Any] = [
            "step": step.id, "cell": step.cell, "workload": step.workload,
            "mode": step.mode,
        ]
        if let r = step.repetition { data["repetition"] = Double(r) }
        return data
    }
}
