import Foundation
import Shared

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Each step as a Grafana annotation: its window (wall clock), tagged `lockstep`, the run, cell, mode
/// and workload, its headline in the text. Always written to `grafana-annotations.json` in the results
/// directory (an array Grafana's annotation API takes one by one: `POST /api/annotations`); with
/// `--grafana URL --grafana-token-file F` also posted there as each step ends, in the background
/// (5 s timeout each; a failure is counted and said once, never fails the run).
final class GrafanaAnnotations: RunObserver, @unchecked Sendable {
    /// One annotation as Grafana's HTTP API takes it.
    struct Annotation: Codable, Equatable {
        /// Milliseconds since the Unix epoch.
        var time: Int64
        var timeEnd: Int64
        var tags: [String]
        var text: String
    }

    let directory: String
    let grafana: URL?
    private let token: String?
    private let lock = NSLock()
    private var written: [Annotation] = []
    private var run = ""
    private var failures = 0
    private var firstFailure: String?

    init(directory: String, grafana: String?, tokenFile: String?) {
        self.directory = directory
        self.grafana = grafana.flatMap { URL(string: $0) }?.appendingPathComponent("api/annotations")
        token = tokenFile.flatMap { try? SmallFile.text($0, limit: 4096) }?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func runBegan(runID: String, directory: String, command: String, startedAt: String) {
        lock.withLock { run = runID }
    }

    func stepFinished(_ step: ObservedStep, samples: [MetricSample], outcome: StepOutcome, windowWall: DateInterval?) {
        guard let windowWall else { return }
        let headline = step.workload.isEmpty ? "" : StepOutcome.headlineText(outcome, outcome.headline(in: samples))
        let annotation = lock.withLock {
            Annotation(
                time: Int64(windowWall.start.timeIntervalSince1970 * 1000),
                timeEnd: Int64(windowWall.end.timeIntervalSince1970 * 1000),
                tags: [
                    "lockstep", "run:\(run)", "cell:\(step.cell)", "mode:\(step.mode)", "workload:\(step.workload)",
                ],
                text: "lockstep \(step.id): \(headline)")
        }
        let all = lock.withLock {
            written.append(annotation)
            return written
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        if let data = try? encoder.encode(all) {
            try? data.write(to: URL(fileURLWithPath: directory + "/grafana-annotations.json"), options: .atomic)
        }
        post(annotation)
    }

    func runEnded(status: RunStatus, error: String?) {
        let (count, first) = lock.withLock { (failures, firstFailure) }
        if count > 0 {
            FileHandle.standardError.write(
                Data("lockstep: warning: \(count) annotation(s) not posted to Grafana: \(first ?? "")\n".utf8))
        }
    }

    private func post(_ annotation: Annotation) {
        guard let grafana, let token, let body = try? JSONEncoder().encode(annotation) else { return }
        var request = URLRequest(url: grafana, timeoutInterval: 5)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = body
        URLSession.shared.dataTask(with: request) { [self] _, response, error in
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard error != nil || !(200..<300).contains(status) else { return }
            lock.withLock {
                failures += 1
                if firstFailure == nil {
                    firstFailure = error.map { "\($0.localizedDescription)" } ?? "HTTP \(status) from \(grafana)"
                }
            }
        }.resume()
    }
}
