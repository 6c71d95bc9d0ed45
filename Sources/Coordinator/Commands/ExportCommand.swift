import ArgumentParser
import Foundation
import Shared

extension ExportFormat: ExpressibleByArgument {}

/// `lockstep export DIR... --format F --out FILE`: results in the formats other tools read.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write results in another tool's format: openmetrics, influx, bmf, otava or pkb.",
        discussion: """
            openmetrics: every sample with its time (`promtool tsdb create-blocks-from openmetrics FILE DIR` \
            imports it into Prometheus); influx: InfluxDB line protocol; bmf: Bencher's metric format (each \
            cell's headline metrics with their interval); otava: Apache Otava's CSV (one row per run); pkb: \
            PerfKitBenchmarker's sample JSON lines.
            """)

    @Argument(help: "Results directories.")
    var directories: [String]

    @Option(help: "openmetrics, influx, bmf, otava or pkb.")
    var format: ExportFormat

    @Option(help: "The file to write (- for stdout).")
    var out: String = "-"

    func run() async throws {
        try await CLI.reportingErrors {
            let names = ReportRun.names(directories)
            let runs = try zip(directories, names).map { try ExportRun($0, name: $1) }
            let text = format.render(runs)
            if out == "-" {
                FileHandle.standardOutput.write(Data(text.utf8))
            } else {
                do {
                    try text.write(toFile: out, atomically: true, encoding: .utf8)
                } catch {
                    throw ResultsError(.results, "cannot write \(out): \(error.localizedDescription)")
                }
                let count = runs.map(\.samples.count).reduce(0, +)
                print("export: \(out) (\(format.rawValue), \(runs.count) run(s), \(count) sample(s))")
            }
        }
    }
}
