import ArgumentParser
import Foundation
import Shared

/// `lockstep check DIR`: the verdicts of a results folder computed again from what its steps
/// recorded (`checks/<step>.json`), with the checks' current thresholds.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compute again and print the verdict of every step of a results directory.",
        discussion: """
            Each step's checks (generator-headroom, too-short, arrivals, independence, steady-state, \
            sample-size, quiet-host, repeatability) run again on what the step recorded in \
            checks/<step>.json. Example: lockstep check results/rr
            """)

    @Argument(help: "A results directory.")
    var directory: String

    @Flag(help: "Exit with status 3 when any step is suspect.")
    var strict = false

    func run() async throws {
        let judged = try await CLI.reportingErrors { try Self.judge(directory) }
        print(Self.render(judged))
        let suspect = judged.filter { $0.checks.map(Verdict.init) == .suspect }
        if strict && !suspect.isEmpty { throw ExitCode(3) }
    }

    /// One step's checks as computed again (`nil` checks: the step recorded no evidence).
    struct Judged {
        var step: String
        var checks: [StepCheck]?
        /// The latency percentiles the step had samples for, with their 95% intervals.
        var percentiles: [StepEvidence.Percentile] = []
    }

    /// Every finished step of `directory` with its checks computed again.
    static func judge(_ directory: String) throws -> [Judged] {
        let path = "\(directory)/run.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ResultsError("\(directory) holds no run (no run.json)")
        }
        let info: RunInfo
        do { info = try JSONDecoder().decode(RunInfo.self, from: data) } catch {
            throw ResultsError("cannot read \(path): \(error)")
        }
        let steps = info.steps.filter { $0.status == .complete }
        return steps.map { step in
            guard let evidence = ResultStore.evidence(in: directory, step: step.id) else {
                return Judged(step: step.id, checks: nil)
            }
            var checks = StepChecks.all(evidence)
            if let cell = step.cell {
                checks.append(StepChecks.repeatability(steps.filter { $0.cell == cell }.compactMap(\.headline)))
            }
            return Judged(step: step.id, checks: checks, percentiles: evidence.percentiles ?? [])
        }
    }

    /// A line per step (`step  valid` or `step  suspect  generator-headroom, ...`) and an indented
    /// line per failed check with its reason.
    static func render(_ judged: [Judged]) -> String {
        let width = judged.map(\.step.count).max() ?? 4
        var lines: [String] = []
        for j in judged {
            let name = j.step.padding(toLength: width, withPad: " ", startingAt: 0)
            guard let checks = j.checks else {
                lines.append("\(name)  -        no checks recorded (a results folder of an older lockstep)")
                continue
            }
            let failed = checks.filter { !$0.passed }
            let verdict = Verdict(checks).rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)
            lines.append(
                "\(name)  \(verdict)  "
                    + (failed.isEmpty ? "every check passed" : failed.map(\.name).joined(separator: ", ")))
            for check in failed { lines.append("    \(check.summary)") }
            if !j.percentiles.isEmpty {
                lines.append(
                    "    latency (95% order-statistic intervals): "
                        + j.percentiles.map { p in
                            String(format: "p%g %.4g us [%.4g, %.4g]", p.q, p.value, p.low, p.high)
                        }.joined(separator: ", "))
            }
        }
        let suspect = judged.filter { $0.checks.map(Verdict.init) == .suspect }.count
        lines.append("\(judged.count) step(s): \(judged.count - suspect) valid, \(suspect) suspect")
        return lines.joined(separator: "\n")
    }
}
