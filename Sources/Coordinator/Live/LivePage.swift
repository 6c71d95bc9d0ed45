import Foundation
import Shared

/// `--serve ADDR`: the run's report page as it stands, served while the run goes. The page is the
/// report of the results directory (every figure of the steps finished so far, with intervals as
/// repetitions land), drawn again only when a step has been written (the samples file grew), with a
/// live section spliced in at each request: the plan's progress (steps done, the one running, elapsed
/// and ETA from the steps' lengths) and the running step's last second on every agent (rate,
/// latency, CPU). The page refreshes itself every `refreshSeconds` (a meta refresh: no script, no
/// fetch); `/status.json` has the live part as JSON.
final class LivePage: RunObserver, @unchecked Sendable {
    /// One agent's last second.
    struct AgentSecond: Codable, Equatable {
        var agent: String
        var role: String
        var load: Bool
        var rate: Double?
        var unit: String?
        var latency_us: Double?
        var cpu_pct: Double?
        var second: Int
    }

    /// What `/status.json` says.
    struct Status: Codable, Equatable {
        var run: String
        var directory: String
        var state: String
        var step: String?
        var cell: String?
        var workload: String?
        var mode: String?
        var repetition: Int?
        var done: Int
        var total: String
        var elapsed_s: Double
        var eta_s: Double?
        /// What the ETA is made from: `configured step lengths` until a step finished, then `measured step times`.
        var eta_from: String?
        var agents: [AgentSecond]
        var failed: [String]
    }

    let refreshSeconds: Int
    /// The results directory the page draws.
    let directory: String
    private let lock = NSLock()
    private var status: Status
    private let begunNs = MonotonicClock.now()
    private var pace = StepPace()
    private var cached: (key: String, html: String)?

    init(directory: String, refreshSeconds: Int = 2) {
        self.refreshSeconds = refreshSeconds
        self.directory = directory
        status = Status(
            run: "", directory: directory, state: "starting", done: 0, total: "?", elapsed_s: 0, agents: [], failed: [])
    }

    // MARK: - What the run says

    func runBegan(runID: String, directory: String, command: String, startedAt: String) {
        lock.withLock {
            status.run = runID
            status.state = "running"
        }
    }

    func stepBegan(_ step: ObservedStep, done: Int, total: String, lengthNs: Int64, remainingNs: Int64) {
        lock.withLock {
            status.step = step.id
            status.cell = step.cell
            status.workload = step.workload
            status.mode = step.mode
            status.done = done
            status.total = total
            status.repetition = step.repetition
            status.agents = []
            pace.began(lengthNs: lengthNs, remainingNs: remainingNs, done: done, total: total, at: MonotonicClock.now())
        }
    }

    func interval(_ step: ObservedStep, agent: String, role: Role, sample: IntervalSample, load: Bool) {
        var second = AgentSecond(
            agent: agent, role: role.rawValue, load: load, rate: nil, unit: nil, latency_us: nil,
            cpu_pct: sample.cpuPercent, second: sample.index + 1)
        if load {
            (second.rate, second.unit) = sample.rate(unit: step.rateUnit)
            second.latency_us = sample.meanLatencyUs
        }
        lock.withLock {
            if let i = status.agents.firstIndex(where: { $0.agent == agent && $0.role == second.role }) {
                status.agents[i] = second
            } else {
                status.agents.append(second)
            }
        }
    }

    func stepFinished(_ step: ObservedStep, samples: [MetricSample], outcome: StepOutcome, windowWall: DateInterval?) {
        lock.withLock {
            status.done += 1
            pace.finished(at: MonotonicClock.now())
        }
    }

    func stepFailed(_ step: ObservedStep, error: String) {
        lock.withLock { status.failed.append("\(step.id): \(error)") }
    }

    func runEnded(status ended: RunStatus, error: String?) {
        lock.withLock {
            status.state = ended.rawValue
            status.step = nil
            status.agents = []
            pace.ended()
        }
    }

    // MARK: - What is served

    /// The live part now.
    func current() -> Status {
        lock.withLock {
            var s = status
            let now = MonotonicClock.now()
            s.elapsed_s = Double(now - begunNs) / 1e9
            if s.state == "running", s.step != nil { s.eta_s = pace.etaNs(at: now).map { Double($0) / 1e9 } }
            s.eta_from = pace.measuredSteps > 0 ? "measured step times" : "configured step lengths"
            return s
        }
    }

    /// `/status.json`.
    func statusJSON() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(current())).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// The page: the report of what is written so far (drawn again when the results changed), with
    /// the live section and the refresh spliced in.
    func html() -> String {
        let s = current()
        let report = reportHTML()
        let live = liveSection(s).render()
        let refresh = s.state == "running" || s.state == "starting"
        let head = refresh ? "<head><meta http-equiv=\"refresh\" content=\"\(refreshSeconds)\">" : "<head>"
        return report.replacingOccurrences(of: "<head>", with: head)
            .replacingOccurrences(of: "<h1>lockstep report</h1>", with: "<h1>lockstep: live</h1>" + live)
    }

    /// The report of the results directory, cached until its samples or run.json change.
    private func reportHTML() -> String {
        func size(_ name: String) -> String {
            let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)
            return "\((attributes?[.size] as? Int) ?? -1)"
        }
        let key = size("samples.jsonl") + "/" + size("aggregates.jsonl") + "/" + current().state
        if let cached = lock.withLock({ cached }), cached.key == key { return cached.html }
        let run = ReportRun.load(directory, name: ReportRun.names([directory])[0])
        let html = ReportPage(runs: [run]).html()
        lock.withLock { cached = (key, html) }
        return html
    }

    private func liveSection(_ s: Status) -> SVGNode {
        var lines: [SVGNode] = []
        let where_: String =
            s.step.map { step in
                "step \(step) (\(s.done + 1) of \(s.total))"
                    + [s.workload, s.mode, s.repetition.map { "repetition \($0)" }].compactMap { $0 }.map { ", " + $0 }
                    .joined()
            } ?? "run \(s.state)"
        lines.append(
            .element(
                "p", [("class", "live-status")],
                [
                    .text(
                        "\(where_) | \(s.done) step(s) done | elapsed \(RunProgress.clock(Int64(s.elapsed_s * 1e9)))"
                            + (s.eta_s.map { " | ETA \(RunProgress.clock(Int64($0 * 1e9))) (\(s.eta_from ?? ""))" }
                                ?? ""))
                ]))
        if !s.agents.isEmpty {
            var rows: [SVGNode] = [
                ReportFigures.row(["agent", "role", "second", "rate", "latency", "CPU"], header: true)
            ]
            for a in s.agents {
                rows.append(
                    ReportFigures.row([
                        a.agent, a.role, String(a.second),
                        a.rate.map { ReportFigures.format($0) + " " + (a.unit ?? "") } ?? "-",
                        a.latency_us.map { ReportFigures.format($0) + " us" } ?? "-",
                        a.cpu_pct.map { String(format: "%.1f%%", $0) } ?? "-",
                    ]))
            }
            lines.append(.element("table", [("class", "live-agents")], rows))
        }
        for failure in s.failed { lines.append(.element("p", [("class", "warning")], [.text("failed: " + failure)])) }
        lines.append(
            .element(
                "p", [("class", "note")],
                [
                    .text(
                        "This page is served by the running lockstep and refreshes every \(refreshSeconds) s; "
                            + "the figures below are the steps written so far.")
                ]))
        return .element("section", [("id", "live")], lines)
    }
}
