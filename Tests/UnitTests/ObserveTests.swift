import Foundation
import Shared
import TestSupport
import Testing

@testable import Agent
@testable import Coordinator

#if canImport(Glibc)
    import Glibc
#endif

/// The coordinator's and the agent's metrics without a run: fed synthetic events, their exposition
/// passes Debian's promtool; the Grafana dashboard has the fields Grafana requires and asks only for
/// metrics the two endpoints serve; the exporters' escaping.
@Suite struct ObserveTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A RunMetrics that has seen a run begin, a step, its seconds, a clock sync, a failure, the end.
    static func fedRunMetrics() -> RunMetrics {
        let metrics = RunMetrics()
        metrics.runBegan(runID: "r1", directory: "/tmp/x", command: "lockstep rr", startedAt: "2026-12-03T00:00:00Z")
        let step = ObservedStep(
            id: "rr-tcp-native-r1", cell: "rr-tcp-native", repetition: 1, workload: "rr", mode: "native",
            rateUnit: "transactions/s")
        metrics.stepBegan(step, done: 0, total: "4-8", lengthNs: 3_000_000_000, remainingNs: 9_000_000_000)
        for i in 0..<3 {
            var sample = IntervalSample(
                stepID: step.id, index: i, tNs: 0, lengthNs: 1_000_000_000, transactions: 20_000, lost: 0)
            sample.latencyNs = 20_000 * 50_000
            sample.cpuPercent = 42
            metrics.interval(step, agent: "peer", role: .peer, sample: sample, load: true)
        }
        metrics.clock(agent: "sut", role: .sut, offsetNs: 1200, errorNs: 300)
        metrics.finished(step, startSkewNs: 40)
        metrics.stepFailed(step, error: "connection reset")
        metrics.runEnded(status: .failed, error: "connection reset")
        return metrics
    }

    /// promtool's verdict on `text` (`nil`: it passes). Fails, not skips, without promtool.
    static func promtool(_ text: String) throws -> String? {
        let run = try runFilter(["promtool", "check", "metrics"], input: Data(text.utf8))
        if run.status == 127 { return "promtool is missing (apt-get install prometheus)" }
        return run.status == 0 ? nil : run.stdout + run.stderr
    }

    @Test func theRunsMetricsPassPromtoolWithBoundedLabels() throws {
        let text = Self.fedRunMetrics().text()
        #expect(try Self.promtool(text) == nil)
        for name in [
            "lockstep_step_rate", "lockstep_step_latency_seconds_bucket", "lockstep_agent_cpu_percent",
            "lockstep_clock_offset_bound_seconds", "lockstep_steps_failed_total", "lockstep_run_eta_seconds",
        ] {
            #expect(text.contains(name + "{"), "\(name) missing")
        }
        // No step id as a label (only the cell): a label's values stay as many as the plan's cells.
        #expect(!text.contains("rr-tcp-native-r1"))
        // The latency histogram: three seconds of 50 us each.
        #expect(text.contains("lockstep_step_latency_seconds_count{run=\"r1\",cell=\"rr-tcp-native\""))
        #expect(text.contains("lockstep_run_running{run=\"r1\"} 0.0"))
    }

    @Test func theAgentsMetricsPassPromtoolAndCountFromItsLog() throws {
        let metrics = AgentMetrics(name: "sut")
        let at = MonotonicClock.now()
        for (event, fields) in [
            ("session.open", [:]), ("step.finished", [:]), ("step.failed", [:]), ("guest.placed", [:]),
            ("session.closed", ["reason": "lease expired"]), ("session.busy", [:]),
        ] as [(String, [String: String])] {
            metrics.observe(
                LogRecord(tNs: at, host: "sut", level: "info", event: event, runID: nil, stepID: nil, fields: fields))
        }
        metrics.readProbes { 7 }
        let text = metrics.text()
        #expect(try Self.promtool(text) == nil)
        for line in [
            "lockstep_agent_sessions_total 1", "lockstep_agent_lease_expiries_total 1",
            "lockstep_agent_steps_total{outcome=\"finished\"} 1", "lockstep_agent_steps_total{outcome=\"failed\"} 1",
            "lockstep_agent_guests_placed_total 1", "lockstep_agent_probe_packets_refused_total 7",
            "lockstep_agent_busy_refusals_total 1", "lockstep_agent_session_active 0.0",
        ] {
            #expect(text.contains(line + "\n"), "\(line) missing in\n\(text)")
        }
        // A second scrape does not count the refused probes twice.
        #expect(metrics.text().contains("lockstep_agent_probe_packets_refused_total 7\n"))
    }

    @Test func theGrafanaDashboardHasWhatGrafanaRequiresAndAsksForServedMetrics() throws {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("deploy/grafana/lockstep.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((dashboard["title"] as? String)?.isEmpty == false)
        #expect(dashboard["uid"] is String)
        #expect((dashboard["schemaVersion"] as? Int ?? 0) >= 30)
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        #expect(panels.count >= 6)
        var ids = Set<Int>()
        var served = Self.fedRunMetrics().text()
        served += AgentMetrics(name: "x").text()
        for panel in panels {
            let id = try #require(panel["id"] as? Int)
            #expect(ids.insert(id).inserted, "panel id \(id) twice")
            #expect(["timeseries", "stat"].contains(panel["type"] as? String ?? ""))
            #expect((panel["title"] as? String)?.isEmpty == false)
            let grid = try #require(panel["gridPos"] as? [String: Int])
            #expect(Set(grid.keys) == ["h", "w", "x", "y"] && (grid["x"]! + grid["w"]!) <= 24)
            let targets = try #require(panel["targets"] as? [[String: Any]])
            #expect(!targets.isEmpty)
            for target in targets {
                let expr = try #require(target["expr"] as? String)
                let names = try Regex(#"lockstep_[a-z_]+"#)
                for match in expr.matches(of: names) {
                    let name = String(expr[match.range])
                    #expect(
                        served.contains(name), "panel '\(panel["title"] ?? "")' asks for \(name), which nothing serves")
                }
            }
        }
        let variables = try #require((dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]])
        #expect(Set(variables.compactMap { $0["name"] as? String }).isSuperset(of: ["run", "mode"]))
        let annotations = try #require((dashboard["annotations"] as? [String: Any])?["list"] as? [[String: Any]])
        #expect(annotations.contains { (($0["target"] as? [String: Any])?["tags"] as? [String]) == ["lockstep"] })
    }

    @Test func theETAUsesMeasuredStepTimesOnceThereAreSome() {
        var pace = StepPace()
        // Before any step finished: the step's expected length left plus the estimate for the rest.
        pace.began(lengthNs: 10, remainingNs: 90, done: 0, total: "10", at: 0)
        #expect(pace.etaNs(at: 4) == Int64(6 + 90))
        pace.finished(at: 20)  // measured: 20, twice the estimate
        pace.began(lengthNs: 10, remainingNs: 80, done: 1, total: "10-30", at: 20)
        // 20 - 5 of this step, then 8 more steps (the lower bound of 10) at 20 each.
        #expect(pace.etaNs(at: 25) == Int64(15 + 8 * 20))
        #expect(pace.etaNs(at: 60) == Int64(8 * 20))
        pace.ended()
        #expect(pace.etaNs(at: 61) == nil)
    }

    /// A FIFO in `scratch` with its read end open (non-blocking) and an event stream writing to it.
    static func stalledStream(_ scratch: Scratch, limit: Int) throws -> (stream: EventStream, reader: Int32) {
        let fifo = scratch.path + "/events.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        return (try EventStream(path: fifo, limit: limit), reader)
    }

    static let longEvent = String(repeating: "x", count: 2000)

    @Test func aReaderThatStopsReadingCostsDroppedLinesNotAStalledRun() throws {
        let scratch = Scratch()
        let (stream, reader) = try Self.stalledStream(scratch, limit: 10)
        // 3,000 lines of 2 kB into a pipe nobody reads: the pipe fills, ten wait, the rest are dropped
        // (each call returns: the run's thread never waits for the reader).
        for _ in 0..<3000 { stream.runEnded(status: .failed, error: Self.longEvent) }
        #expect(stream.droppedLines > 2000, "\(stream.droppedLines) dropped")
        #expect(!stream.flush(seconds: 0.2), "the stalled reader was not stalled")
        // The reader comes back: what waited reaches it, whole lines in order.
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var got = Data()
        while !stream.flush(seconds: 0.01) {
            let n = read(reader, &buffer, buffer.count)
            if n > 0 { got.append(contentsOf: buffer[0..<n]) }
        }
        while true {
            let n = read(reader, &buffer, buffer.count)
            guard n > 0 else { break }
            got.append(contentsOf: buffer[0..<n])
        }
        close(reader)
        let lines = String(decoding: got, as: UTF8.self).split(separator: "\n")
        #expect(lines.count + stream.droppedLines == 3000)
        #expect(lines.allSatisfy { $0.hasPrefix("{") && $0.hasSuffix("}") })
    }

    @Test func aReaderThatGoesAwayDoesNotEndTheProcess() throws {
        let scratch = Scratch()
        let (stream, reader) = try Self.stalledStream(scratch, limit: 100)
        close(reader)
        // Without SIGPIPE ignored, the first write would kill this test process.
        for _ in 0..<5 { stream.runEnded(status: .complete, error: nil) }
        #expect(stream.flush(seconds: 5))
        #expect(stream.droppedLines == 5)
    }

    @Test func exportersEscapeWhatTheirFormatsReserve() {
        #expect(Exporters.metricName("latency_p99.9_us") == "latency_p99_9_us")
        #expect(Exporters.metricName("9lives") == "_9lives")
        #expect(Exporters.escapeLabel("a\"b\\c\nd") == #"a\"b\\c\nd"#)
        #expect(Exporters.influxTag("sut=ab peer=cd,x") == #"sut\=ab_peer\=cd\,x"#)
        #expect(Exporters.csv("a,b") == "\"a,b\"" && Exporters.csv("plain") == "plain")
        #expect(ExportRun.uuid("x") == ExportRun.uuid("x") && ExportRun.uuid("x") != ExportRun.uuid("y"))
        #expect(ExportRun.uuid("x").split(separator: "-").map(\.count) == [8, 4, 4, 4, 12])
    }
}
