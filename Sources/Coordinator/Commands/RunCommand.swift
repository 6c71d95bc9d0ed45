import ArgumentParser
import Foundation
import Shared

/// `lockstep run PLAN.yaml`: every cell of a plan (workload x point x mode), each repeated until its
/// confidence interval is narrow enough, in a seeded shuffle, with aggregates and ratios to native.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a plan file: experiments x modes x points, repeated to a confidence interval.",
        discussion: "See README.md, 'Plans', for the file format; deploy/plans/ holds the shipped plans.")

    @Argument(help: "The plan file (YAML).")
    var plan: String

    @OptionGroup var agents: AgentOptions

    @OptionGroup var output: OutputOptions

    @OptionGroup var observe: ObserveOptions

    @Flag(help: "Print the schedule and check every mode's prerequisites on the SUT's host; start nothing.")
    var dryRun = false

    @Option(help: "Multiply every window and table size by this factor (0.1 for a laptop).")
    var scale: Double?

    @Option(help: "Seed of the shuffle (replaces the plan's).")
    var seed: UInt64?

    func validate() throws {
        if !dryRun { try output.requireDirectory() }
    }

    func run() async throws {
        let file = try await CLI.reportingErrors { try PlanFile.load(plan, scale: scale, seed: seed) }
        let local = try await CLI.reportingErrors { try agents.startLocal() }
        defer { local?.stop() }
        let target = try await CLI.reportingErrors { try agents.resolve(local: local) }
        var runPlan = RunPlan(
            sut: target.sut, peers: target.peers, sutDataHost: target.sutData,
            token: try CLI.loadToken(target.tokenFile),
            steps: file.cells.map(\.step), outDirectory: output.directory,
            command: CommandLine.arguments.joined(separator: " "), resume: output.resume != nil)
        runPlan.reconnectWaitNs = agents.reconnectWait.nanoseconds
        runPlan.retrySuspect = output.retrySuspect
        runPlan.repetition = file.rule
        runPlan.planText = file.text
        try await CLI.reportingErrors { try runPlan.use(file.runWide) }

        if dryRun {
            print(PlanSchedulePreview(file: file).text)
            let problems = try await CLI.reportingErrors { try await BenchmarkRun(plan: runPlan).prerequisites() }
            if problems.isEmpty {
                print("prerequisites: every mode can run on the SUT's host")
                return
            }
            for problem in problems { print("missing: \(problem)") }
            CLI.fail(
                WireError(.modePrerequisites, "\(problems.count) prerequisite(s) missing: the plan cannot run as it is")
            )
        }

        let watch = try await CLI.reportingErrors { try observe.start(directory: output.directory) }
        defer { watch.close() }
        let live = RunProgress.forStandardError(quiet: output.quiet)
        let outcomes = try await CLI.reportingRun(into: output.directory) {
            try await BenchmarkRun(plan: runPlan, progress: live.say, live: live, observer: watch.observer).run()
        }
        let rows = try await CLI.reportingErrors {
            try ResultStore(reading: output.directory).writeAggregates(rule: file.rule, cells: file.cells)
        }
        print(AggregateTable.render(rows, rule: file.rule))
        if runPlan.resume { print("resumed: \(outcomes.count) step(s) run now") }
        print("results: \(output.directory)")
        await CLI.finish(output.directory, history: output.history)
        try CLI.failOnSuspect(outcomes, strict: output.strict)
    }
}

/// The dry run's schedule: cells, step counts, the estimated duration with preparation costs.
struct PlanSchedulePreview {
    let file: PlanFile

    var text: String {
        let rule = file.rule
        let cells = file.cells
        let perRepetitionNs = cells.map { BenchmarkRun.estimatedNs($0.step) }.reduce(0, +)
        let prepare = preparationNs
        let shortest = perRepetitionNs * Int64(rule.minimum) + prepare
        let longest = perRepetitionNs * Int64(rule.maximum) + prepare
        let cooldown = rule.cooldownNs
        let least = cells.count * rule.minimum
        let most = cells.count * rule.maximum
        var lines = [
            "plan \(file.path): \(cells.count) cells, \(least) steps at least, \(most) at most "
                + "(repetitions \(rule.minimum)-\(rule.maximum), \(Int(rule.level * 100))% confidence within "
                + "\(String(format: "%g", rule.widthPercent))%), "
                + (rule.shuffle ? "shuffled with seed \(rule.seed)" : "in plan order"),
            "estimated \(RunProgress.clock(shortest + Int64(max(least - 1, 0)) * cooldown)) to "
                + "\(RunProgress.clock(longest + Int64(max(most - 1, 0)) * cooldown)), including "
                + "\(RunProgress.clock(prepare)) of preparation (table loads, image builds, guest boots)",
        ]
        let width = cells.map(\.id.count).max() ?? 0
        for cell in cells {
            lines.append(
                "  \(cell.id.padding(toLength: width, withPad: " ", startingAt: 0))  \(StepOutcome.describe(cell.step))"
            )
        }
        return lines.joined(separator: "\n")
    }

    /// Once per run and mode: a guest's boot (and the container image's build); once per MySQL
    /// table shape and mode: its load (sysbench's prepare, about 50,000 rows a second here).
    var preparationNs: Int64 {
        var total: Int64 = 0
        let modes = Set(file.cells.map(\.step.placement.mode))
        for mode in modes {
            switch mode {
            case .native: break
            case .netnsNAT: total += 1_000_000_000
            case .dockerHost, .dockerNAT: total += 3_000_000_000
            case .kvm: total += 15_000_000_000
            }
        }
        if file.image == nil && (modes.contains(.dockerHost) || modes.contains(.dockerNAT)) {
            total += 20_000_000_000
        }
        var loads: Set<String> = []
        for cell in file.cells {
            guard let spec = cell.step.workload.spec(MySQLSpec.self) else { continue }
            let key = "\(cell.step.placement.mode.rawValue) \(spec.tables)x\(spec.tableSize)"
            if loads.insert(key).inserted { total += Int64(spec.tables * spec.tableSize) / 50_000 * 1_000_000_000 }
        }
        return total
    }
}

/// The plan's final table: per cell its headline's mean, interval, width against the target, and ratio to native.
enum AggregateTable {
    static func render(_ rows: [AggregateRow], rule: RepetitionRule) -> String {
        let headlines = rows.filter(\.headline)
        var table = [["cell", "metric", "n", "mean", "± ci", "width %", "met", "vs native [ci]", "suspect"]]
        for r in headlines {
            let ratio = r.ratioText
            table.append([
                r.cell, r.metric, String(r.n), String(format: "%.4g", r.mean),
                r.ci_half_width.map { String(format: "%.3g", $0) } ?? "-",
                r.ci_width_pct.map { String(format: "%.1f", $0) } ?? "-", r.confidence_met ? "yes" : "NO", ratio,
                r.suspect_steps.map { "\($0) of \(r.n)" } ?? "-",
            ])
        }
        var lines = [CLI.columns(table)]
        let missed = headlines.filter { !$0.confidence_met }.map(\.cell)
        lines.append(
            "\(Int(rule.level * 100))% Student-t intervals, target width \(String(format: "%g", rule.widthPercent))% "
                + "of the mean; ratios by the \(Statistics.Ratio.method)")
        for r in headlines where r.provenance_changed != nil {
            lines.append(
                "provenance changed between repetitions of \(r.cell) on \(r.provenance_changed!.joined(separator: ", ")) "
                    + "(see run.json)")
        }
        if !missed.isEmpty {
            lines.append(
                "confidence not met (max \(rule.maximum) repetitions reached): \(missed.joined(separator: ", "))")
        }
        if let note = Emulation.note(cells: headlines.filter { $0.accel?.contains("tcg") ?? false }.map(\.cell)) {
            lines.append(note)
        }
        if headlines.contains(where: { $0.suspect_steps != nil }) {
            lines.append(
                "suspect: repetitions whose checks failed (their values are in the mean; `lockstep check DIR` says why)"
            )
        }
        return lines.joined(separator: "\n")
    }
}
