import Foundation
import Shared
import TestSupport
import Testing

@testable import Coordinator

#if canImport(Glibc)
    import Glibc
#endif

/// Counts a PNG's non-white pixels (python3's zlib; PNG's five row filters undone), so a test can
/// tell a drawn figure from a blank one without an image library.
enum PNGInk {
    static let script = #"""
        import struct, sys, zlib
        data = open(sys.argv[1], "rb").read()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
        pos, idat, width = 8, b"", 0
        while pos < len(data):
            length, kind = struct.unpack(">I4s", data[pos:pos + 8])
            chunk = data[pos + 8:pos + 8 + length]
            if kind == b"IHDR":
                width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
                channels = {2: 3, 6: 4, 0: 1, 4: 2}[color]
            elif kind == b"IDAT":
                idat += chunk
            pos += 12 + length
        raw = zlib.decompress(idat)
        stride = width * channels
        prev, ink, i = bytearray(stride), 0, 0
        for y in range(height):
            f, row = raw[i], bytearray(raw[i + 1:i + 1 + stride])
            i += 1 + stride
            for x in range(stride):
                a = row[x - channels] if x >= channels else 0
                b, c = prev[x], prev[x - channels] if x >= channels else 0
                if f == 1: row[x] = (row[x] + a) & 255
                elif f == 2: row[x] = (row[x] + b) & 255
                elif f == 3: row[x] = (row[x] + (a + b) // 2) & 255
                elif f == 4:
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    row[x] = (row[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            for x in range(0, stride, channels):
                if min(row[x:x + 3]) < 200: ink += 1
            prev = row
        print(ink)
        """#

    /// The count of dark pixels in `png`, or `nil` when it cannot be read.
    static func count(_ png: String, scratch: Scratch) -> Int? {
        let path = scratch.path + "/ink.py"
        try? script.write(toFile: path, atomically: true, encoding: .utf8)
        guard let run = try? ChildProcess("/usr/bin/env", ["python3", path, png], scratch: scratch, label: "ink"),
            run.wait(seconds: 60) == 0
        else { return nil }
        return Int(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

extension Integration {
    /// `lockstep report` and `lockstep compare` on real runs: a short plan in two modes, every
    /// figure present and drawn (Chromium renders each), its tables equal to the aggregates.
    @Suite struct ReportTests {
        static var chromium: String? {
            ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
                FileManager.default.isExecutableFile(atPath: $0)
            }
        }

        /// The markup of `<figure ... id="ID">...</figure>` in a page.
        static func figure(_ id: String, in page: String) -> String? {
            guard let start = page.range(of: "<figure class=\"figure\" id=\"\(id)\">"),
                let end = page.range(of: "</figure>", range: start.upperBound..<page.endIndex)
            else { return nil }
            return String(page[start.lowerBound..<end.upperBound])
        }

        @Test func aTwoModePlansReportHasEveryFigureDrawnAndItsNumbersAreTheAggregates() throws {
            let lab = try Lab()
            let plan = lab.scratch.path + "/plan.yaml"
            try """
            modes: [native, netns-nat]
            repetitions: {min: 2, max: 2}
            experiments:
              - rr: {protocol: [tcp, udp], duration: 0.5s, warmup: 0.2s}
              - stream: {direction: [sut-tx, sut-rx], duration: 0.5s, warmup: 0.2s}
              - redis: {connections: [1, 4], duration: 0.5s, warmup: 0.2s}
              - mysql: {threads: [1, 2], table-size: 500, duration: 0.5s, warmup: 0.2s}

            """.write(toFile: plan, atomically: true, encoding: .utf8)
            let out = lab.scratch.path + "/run"
            let run = try ChildProcess(
                Binaries.coordinator,
                [
                    "run", plan, "--sut", lab.sut.endpoint.description, "--peer", lab.peer.endpoint.description,
                    "--token-file", lab.tokenPath, "--out", out, "--quiet",
                ], scratch: lab.scratch, label: "plan")
            #expect(run.wait(seconds: 400) == 0, "\(run.stderr)")
            // The run wrote its own report and said where.
            #expect(FileManager.default.fileExists(atPath: out + "/report.html"))
            #expect(run.stdout.contains("report: \(out)/report.html"), "\(run.stdout)")

            let html = lab.scratch.path + "/report.html"
            let report = try ChildProcess(
                Binaries.coordinator, ["report", out, "--out", html], scratch: lab.scratch, label: "report")
            #expect(report.wait(seconds: 60) == 0, "\(report.stderr)")
            let page = try String(contentsOfFile: html, encoding: .utf8)
            #expect(!page.contains("src=\"http") && !page.contains("href=\"http") && !page.contains("<script src"))
            let figures = [
                "figure-rr-latency", "figure-rr-percentiles", "figure-bulk", "figure-redis", "figure-mysql",
                "figure-skew-run",
            ]
            for id in figures {
                let markup = try #require(Self.figure(id, in: page), "\(id) is missing")
                #expect(markup.contains("<svg"), "\(id) has no chart")
            }
            #expect(page.contains("native") && page.contains("netns-nat"))
            let streamed = Set(
                try jsonLines(out + "/samples.jsonl").compactMap { row -> String? in
                    let labels = row["labels"] as? [String: String] ?? [:]
                    return labels["kind"] == "interval" ? labels["step"] : nil
                })
            #expect(!streamed.isEmpty)
            // Each second carries its transactions' mean latency and the streaming machine's CPU.
            let perSecond = try jsonLines(out + "/samples.jsonl").filter {
                ($0["labels"] as? [String: String])?["kind"] == "interval"
            }
            for metric in ["latency_mean_us", "cpu_util_pct", "transactions_per_sec", "goodput_gbps"] {
                #expect(perSecond.contains { $0["metric"] as? String == metric }, "no per-second \(metric)")
            }
            #expect(page.contains(": mean latency</text>") && page.contains(": machine CPU</text>"))
            #expect(
                page.components(separatedBy: "<details class=\"series\">").count - 1 == streamed.count,
                "a time series per step that streamed samples")
            #expect(page.contains("id=\"provenance\""))

            // Every number in the figures' tables is its aggregate's mean, to 1e-13 of it: Foundation's
            // JSONDecoder (the report's reader) and JSONSerialization (this test's) parse some doubles
            // of aggregates.jsonl a few units in the last place apart (CI saw 6 ulp at 0.1197). A wrong
            // cell, metric or statistic differs by far more.
            let aggregates = try jsonLines(out + "/aggregates.jsonl")
            let pattern = try NSRegularExpression(
                pattern: #"data-cell="([^"]+)" data-metric="([^"]+)" data-value="([^"]+)""#)
            let matches = pattern.matches(in: page, range: NSRange(page.startIndex..., in: page))
            #expect(matches.count >= 16 * 3, "\(matches.count) numbers")
            for m in matches {
                let field = { (i: Int) in String(page[Range(m.range(at: i), in: page)!]) }
                let row = aggregates.first { $0["cell"] as? String == field(1) && $0["metric"] as? String == field(2) }
                let mean = try #require(row?["mean"] as? Double, "\(field(1)) \(field(2)) is no aggregate")
                let shown = try #require(Double(field(3)))
                #expect(
                    abs(mean - shown) <= 1e-13 * abs(mean) + Double.leastNormalMagnitude,
                    "\(field(1)) \(field(2)): \(shown) vs \(mean)")
            }

            // Chromium renders the page, and every figure on its own has ink in it.
            guard let chromium = Self.chromium else {
                Issue.record("chromium is not installed: scripts/install-deps.sh installs it")
                return
            }
            for id in figures {
                let single = lab.scratch.path + "/\(id).html"
                try
                    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>\(ReportPage.css)</style></head><body>\(Self.figure(id, in: page)!)</body></html>"
                    .write(toFile: single, atomically: true, encoding: .utf8)
                let png = lab.scratch.path + "/\(id).png"
                let shot = try ChildProcess(
                    chromium,
                    [
                        "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,700",
                        "--screenshot=\(png)", "file://\(single)",
                    ], scratch: lab.scratch, label: "chromium-\(id)")
                #expect(shot.wait(seconds: 90) == 0, "\(id): \(shot.stderr)")
                let ink = PNGInk.count(png, scratch: lab.scratch) ?? 0
                #expect(ink > 2000, "\(id): \(ink) dark pixels: blank?")
            }
        }

        @Test func compareSaysWhatChangedInPercentAndAnEmptyDirectoryStillGivesAReport() throws {
            let lab = try Lab()
            var dirs: [String] = []
            for name in ["a", "b"] {
                let out = lab.scratch.path + "/" + name
                let run = try lab.rr(
                    ["--protocol", "tcp", "--duration", "0.5s", "--warmup", "0.2s", "--quiet"], out: out)
                #expect(run.wait(seconds: 60) == 0, "\(run.stderr)")
                dirs.append(out)
            }
            let compare = try ChildProcess(
                Binaries.coordinator, ["compare", dirs[0], dirs[1]], scratch: lab.scratch, label: "compare")
            #expect(compare.wait(seconds: 30) == 0, "\(compare.stderr)")
            #expect(compare.stdout.contains("rr-tcp-1") && compare.stdout.contains("%"), "\(compare.stdout)")
            #expect(compare.stdout.contains("undecided"), "one repetition each cannot be decided")
            let json = try ChildProcess(
                Binaries.coordinator, ["compare", dirs[0], dirs[1], "--json"], scratch: lab.scratch, label: "json")
            #expect(json.wait(seconds: 30) == 0)
            let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
            #expect(rows?.first?["metric"] as? String == "latency_mean_us")
            // One run's report next to another's: both named.
            let both = lab.scratch.path + "/both.html"
            let report = try ChildProcess(
                Binaries.coordinator, ["report"] + dirs + ["--out", both], scratch: lab.scratch, label: "report")
            #expect(report.wait(seconds: 30) == 0)
            let page = try String(contentsOfFile: both, encoding: .utf8)
            #expect(page.contains("a: native") && page.contains("b: native"))
            // An empty directory: a report of what is there, saying what is missing.
            let empty = lab.scratch.path + "/empty"
            try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
            let partial = try ChildProcess(
                Binaries.coordinator, ["report", empty, "--out", lab.scratch.path + "/empty.html"],
                scratch: lab.scratch,
                label: "empty")
            #expect(partial.wait(seconds: 30) == 0)
            let text = try String(contentsOfFile: lab.scratch.path + "/empty.html", encoding: .utf8)
            #expect(text.contains("What is missing") && text.contains("no run.json"))
            // A run that fails still leaves its report, saying what is missing.
            let failed = lab.scratch.path + "/failed"
            let unreachable = try ChildProcess(
                Binaries.coordinator,
                [
                    "rr", "--sut", "127.0.0.1:\(try freePort())", "--peer", lab.peer.endpoint.description,
                    "--token-file",
                    lab.tokenPath, "--out", failed,
                ], scratch: lab.scratch, label: "failed")
            #expect(unreachable.wait(seconds: 30) == 1)
            #expect(unreachable.stdout.contains("report: \(failed)/report.html"), "\(unreachable.stdout)")
            let failedPage = try String(contentsOfFile: failed + "/report.html", encoding: .utf8)
            #expect(failedPage.contains("What is missing") && failedPage.contains("the run is failed"))
            // compare refuses what it cannot compare, in one line.
            let bad = try ChildProcess(
                Binaries.coordinator, ["compare", dirs[0], empty], scratch: lab.scratch, label: "bad")
            #expect(bad.wait(seconds: 30) == 1)
            #expect(bad.stderr.hasPrefix("lockstep: error:"), "\(bad.stderr)")
        }
    }
}
