import Foundation
import Shared
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension Integration {
    /// Promise: a lab's history catches a change. Eight runs of a short plan (bulk transfer from the
    /// SUT, two repetitions) over the namespace lab's test link go into one history with `--history`;
    /// before the fifth, a token-bucket filter (`tc tbf`, 200 Mbit/s) goes on the SUT's side of the
    /// link. `lockstep regressions` must put the change at the fifth run and fail the nightly job;
    /// the store keeps a run added twice once; the report draws the series with its change point;
    /// `compare` reports Mann-Whitney. Needs root (CI runs as root).
    @Suite struct HistoryRunTests {
        static let plan = """
            modes: [native]
            repetitions: {min: 2, max: 2}
            confidence: {level: 95, width: 50}
            experiments:
              - stream: {direction: sut-tx, duration: 1s, warmup: 300ms}
            """

        @Test func aRateLimitOnTheLinkIsFoundAtTheRunItStarted() throws {
            let lab = try NamespaceLab(prefix: "hy", startAgents: true)
            let planPath = lab.scratch.path + "/nightly.yaml"
            try Self.plan.write(toFile: planPath, atomically: true, encoding: .utf8)
            let db = lab.scratch.path + "/lab.db"
            var runs: [String] = []
            for night in 1...8 {
                if night == 5 {
                    let shape = try ChildProcess(
                        "/usr/sbin/tc",
                        [
                            "-n", "\(lab.name)-sut", "qdisc", "add", "dev", "\(lab.name)-t", "root", "tbf", "rate",
                            "200mbit", "burst", "256kb", "latency", "50ms",
                        ], scratch: lab.scratch, label: "tbf")
                    try #require(shape.wait(seconds: 10) == 0, "tc tbf: \(shape.stderr)")
                }
                let out = lab.scratch.path + "/night-\(night)"
                let run = try lab.inControl(
                    [
                        "run", planPath, "--sut", "198.18.0.2:7470", "--peer", "198.18.0.3:7470", "--sut-data",
                        "198.19.0.2", "--token-file", lab.tokenPath, "--out", out, "--quiet", "--history", db,
                    ], label: "night-\(night)")
                try #require(run.wait(seconds: 120) == 0, "night \(night): \(run.stderr)")
                #expect(run.stdout.contains("history: \(db): night-\(night) added"), "\(run.stdout)")
                runs.append(out)
            }
            // Added again: stored once.
            let again = try lab.inControl(["history", "add", runs[2], "--db", db], label: "add-again")
            #expect(again.wait(seconds: 30) == 0, "\(again.stderr)")
            #expect(again.stdout.contains("night-3: already stored"), "\(again.stdout)")
            let list = try lab.inControl(["history", "list", "--db", db, "--json"], label: "list")
            try #require(list.wait(seconds: 30) == 0, "\(list.stderr)")
            let stored = try #require(
                try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
            #expect(stored.compactMap { $0["name"] as? String } == (1...8).map { "night-\($0)" })
            #expect(Set(stored.compactMap { $0["testbed"] as? String }).count == 1, "one testbed for one lab")

            // The change: at night-5, goodput down, still in effect: exit 1 with --fail-on-regression.
            let regressions = try lab.inControl(
                ["regressions", "--db", db, "--fail-on-regression", "10", "--json"], label: "regressions")
            #expect(regressions.wait(seconds: 30) == 1, "\(regressions.stdout)\(regressions.stderr)")
            let analysis = try #require(
                try JSONSerialization.jsonObject(with: Data(regressions.stdout.utf8)) as? [String: Any])
            let changes = try #require(analysis["changes"] as? [[String: Any]])
            let goodput = try #require(
                changes.first {
                    $0["cell"] as? String == "stream-sut-tx-native" && $0["metric"] as? String == "goodput_gbps"
                },
                "no change point in goodput: \(regressions.stdout)")
            #expect(goodput["run"] as? String == "night-5")
            #expect(goodput["regression"] as? Bool == true)
            #expect(goodput["still_in_effect"] as? Bool == true)
            #expect((goodput["mean_after"] as? Double ?? 1) < 0.25, "shaped to 200 Mbit/s: \(goodput)")
            #expect((goodput["p_value"] as? Double ?? 1) < 0.001)
            // One line naming the goodput regression at night-5 (newest changes first; cycles per byte
            // may move again within the shaped runs).
            let said = regressions.stderr.split(separator: "\n").filter { $0.hasPrefix("lockstep: regression:") }
            #expect(said.count == 1, "\(regressions.stderr)")
            #expect(said.first?.contains("stream-sut-tx-native goodput_gbps -") == true, "\(regressions.stderr)")
            #expect(said.first?.contains("% at night-5") == true, "\(regressions.stderr)")
            // A tighter reading of the same history, as text: the run is named with its change.
            let text = try lab.inControl(["regressions", "--db", db, "--cell", "stream-sut-tx-native"], label: "text")
            #expect(text.wait(seconds: 30) == 0)
            #expect(text.stdout.contains("REGRESSION stream-sut-tx-native goodput_gbps: at night-5"), "\(text.stdout)")

            // One cell's series, oldest first, each run with its interval.
            let show = try lab.inControl(
                ["history", "show", "stream-sut-tx-native", "--db", db, "--metric", "goodput_gbps"], label: "show")
            #expect(show.wait(seconds: 30) == 0, "\(show.stderr)")
            let shown = show.stdout.split(separator: "\n").filter { $0.hasPrefix("night-") }
                .map { String($0.split(separator: " ")[0]) }
            #expect(shown == (1...8).map { "night-\($0)" }, "\(show.stdout)")
            #expect(show.stdout.contains("± "), "each run's interval: \(show.stdout)")
            let missing = try lab.inControl(["history", "show", "no-such-cell", "--db", db], label: "show-missing")
            #expect(missing.wait(seconds: 30) == 1)
            #expect(missing.stderr.contains("no run holds cell no-such-cell"))

            // The report over the history: the series, its change point, the run ringed.
            let page = lab.scratch.path + "/history.html"
            let report = try lab.inControl(["report", runs[7], "--history", db, "--out", page], label: "report")
            #expect(report.wait(seconds: 60) == 0, "\(report.stderr)")
            let html = try String(contentsOfFile: page, encoding: .utf8)
            #expect(html.contains("id=\"history\""))
            #expect(html.contains("class=\"change-point\""))
            #expect(html.contains("class=\"current\""))
            // Each finished run's own report already carries its series over the history.
            #expect(try String(contentsOfFile: runs[7] + "/report.html", encoding: .utf8).contains("id=\"history\""))

            // compare: Welch and Mann-Whitney side by side, with the detectable change.
            let compare = try lab.inControl(["compare", runs[0], runs[7]], label: "compare")
            #expect(compare.wait(seconds: 30) == 0, "\(compare.stderr)")
            #expect(compare.stdout.contains("mann-whitney"))
            #expect(compare.stdout.contains("(exact)"), "\(compare.stdout)")
            #expect(compare.stdout.contains("detectable"))
        }
    }
}
