import Foundation
import Observe
import Shared
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// One HTTP/1.1 GET over a plain socket; `nil` when nothing answers within `seconds`.
func httpGet(_ port: Int, _ path: String, seconds: Int = 10) -> (status: Int, body: String)? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var timeout = timeval(tv_sec: seconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { return nil }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
    guard write(fd, request, request.count) == request.count else { return nil }
    var data = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { break }
        data += buffer[0..<n]
    }
    let text = String(decoding: data, as: UTF8.self)
    guard let headEnd = text.range(of: "\r\n\r\n"),
        let status = Int(text.split(separator: " ").dropFirst().first ?? "")
    else { return nil }
    return (status, String(text[headEnd.upperBound...]))
}

/// A connection to 127.0.0.1:`port` that sends `partial` (maybe nothing) and then nothing more.
func stuckConnection(_ port: Int, partial: String = "") -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    if !partial.isEmpty { _ = write(fd, partial, partial.utf8.count) }
    return fd
}

/// The resident memory of a process, KiB.
func residentKiB(_ pid: Int32) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    return status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        .flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) }
}

/// promtool's verdict on an exposition text: `nil` when it passes, else what it said.
func promtoolProblems(_ text: String, scratch: Scratch) throws -> String? {
    let path = scratch.path + "/metrics-\(UUID().uuidString).txt"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    let check = try ChildProcess(
        "/bin/sh", ["-c", "promtool check metrics < '\(path)'"], scratch: scratch, label: "promtool")
    guard check.wait(seconds: 30) == 0 else { return "promtool: \(check.stdout)\(check.stderr)" }
    return nil
}

extension Integration {
    /// Promise: a run can be watched while it goes and exported after, and watching costs it nothing.
    /// A short plan between two agent processes that serve `/metrics`, with `--serve`, `--metrics` and
    /// `--events`: the page grows as steps finish (as headless Chromium renders it, at two moments),
    /// the coordinator's and the agents' `/metrics` pass promtool, the events are JSON lines. While
    /// it runs, 40 connections that never send, a request never read, and 2,000 connections one after
    /// another: the run finishes every step, the endpoint answers again, the coordinator's memory stays
    /// bounded. Then every export format, the OpenMetrics one imported by promtool into TSDB blocks.
    @Suite struct LiveRunTests {
        static let plan = """
            modes: [native]
            repetitions: {min: 2, max: 2}
            experiments:
              - rr: {protocol: [tcp, udp], duration: 4s, warmup: 300ms}
              - stream: {direction: [sut-tx], duration: 4s, warmup: 300ms}
            """

        @Test func aWatchedRunGrowsItsPageServesMetricsAndLosesNothing() throws {
            let scratch = Scratch()
            let token = try scratch.token().path
            let metricsPorts = [try freePort(), try freePort()]
            let sut = try AgentProcess(
                name: "sut", tokenPath: token, scratch: scratch, extra: ["--metrics", "127.0.0.1:\(metricsPorts[0])"])
            let peer = try AgentProcess(
                name: "peer", tokenPath: token, scratch: scratch, extra: ["--metrics", "127.0.0.1:\(metricsPorts[1])"])
            defer {
                sut.child.terminate(signal: SIGTERM)
                peer.child.terminate(signal: SIGTERM)
            }
            let planPath = scratch.path + "/plan.yaml"
            try Self.plan.write(toFile: planPath, atomically: true, encoding: .utf8)
            let (page, metrics) = (try freePort(), try freePort())
            let out = scratch.path + "/live"
            let events = scratch.path + "/events.jsonl"
            let run = try ChildProcess(
                Binaries.coordinator,
                [
                    "run", planPath, "--sut", sut.endpoint.description, "--peer", peer.endpoint.description,
                    "--token-file", token, "--serve", String(page), "--metrics", "127.0.0.1:\(metrics)",
                    "--events", events, "--quiet", "--out", out,
                ], scratch: scratch, label: "run")
            let chromium = try #require(
                ReportTests.chromium, "chromium is not installed: scripts/install-deps.sh installs it")
            /// The page as Chromium renders it: how many figures (inline SVGs) it has.
            func renderedFigures(_ shot: String) throws -> Int {
                let dump = try ChildProcess(
                    chromium,
                    [
                        "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,2400",
                        "--screenshot=\(scratch.path)/\(shot).png", "--dump-dom", "http://127.0.0.1:\(page)/",
                    ], scratch: scratch, label: "chromium-\(shot)")
                guard dump.wait(seconds: 90) == 0 else { return -1 }
                return dump.stdout.components(separatedBy: "<svg").count - 1
            }
            // The first moment: once a figure is there.
            var first = 0
            try expectEventually(seconds: 60, "the live page never showed a figure: \(run.stderr)") {
                first = (httpGet(page, "/")?.body.components(separatedBy: "<svg").count ?? 1) - 1
                return first > 0
            }
            // Abuse while it runs: stuck connections, a request never read, a storm of connects.
            try #require(run.wait(seconds: 0.01) == nil, "the run ended before the abuse began")
            let before = residentKiB(run.pid) ?? 0
            let stuck = (0..<40).map { i in
                stuckConnection(i % 2 == 0 ? metrics : page, partial: i % 3 == 0 ? "GET /" : "")
            }
            let unread = stuckConnection(page, partial: "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            var answered = 0
            for _ in 0..<2000 {
                let fd = stuckConnection(metrics)
                if fd >= 0 { close(fd) }
            }
            Thread.sleep(forTimeInterval: 6)  // past the endpoint's 5 s request timeout
            for _ in 0..<20 where httpGet(metrics, "/metrics", seconds: 5)?.status == 200 { answered += 1 }
            #expect(answered == 20, "the metrics endpoint did not recover from stuck clients: \(answered) of 20")
            try #require(run.wait(seconds: 0.01) == nil, "the run ended during the abuse: the check proves nothing")
            let during = residentKiB(run.pid) ?? 0
            #expect(during - before < 100_000, "the coordinator grew by \(during - before) KiB under the storm")
            stuck.forEach { close($0) }
            close(unread)

            let firstRendered = try renderedFigures("first")
            #expect(firstRendered > 0, "Chromium saw no figure at the first moment")
            #expect(try promtoolProblems(try #require(httpGet(metrics, "/metrics")).body, scratch: scratch) == nil)
            #expect(httpGet(page, "/status.json")?.body.contains("\"state\":\"running\"") == true)

            // A later moment: more figures as Chromium renders the page.
            var laterRendered = firstRendered
            while run.wait(seconds: 0.5) == nil {
                let n = try renderedFigures("later")
                if n > laterRendered { laterRendered = n }
            }
            #expect(run.wait(seconds: 1) == 0, "\(run.stderr)")
            #expect(laterRendered > firstRendered, "first \(firstRendered), later \(laterRendered) figures")

            // Nothing lost: six steps complete, each with its samples.
            let info = try jsonObject(out + "/run.json")
            let steps = try #require(info["steps"] as? [[String: Any]])
            #expect(steps.count == 6 && steps.allSatisfy { $0["status"] as? String == "complete" }, "\(steps)")
            let samples = try jsonLines(out + "/samples.jsonl")
            #expect(Set(samples.compactMap { ($0["labels"] as? [String: Any])?["step"] as? String }).count == 6)

            // The event stream: JSON lines, from run.start to run.end.
            let lines = try jsonLines(events)
            let names = lines.compactMap { $0["event"] as? String }
            #expect(names.first == "run.start" && names.last == "run.end", "\(names.prefix(3)) ... \(names.suffix(2))")
            for name in ["step.start", "step.ready", "step.started", "interval", "step.finished", "aggregates"] {
                #expect(names.contains(name), "no \(name) event")
            }
            #expect(names.filter { $0 == "step.finished" }.count == 6)

            // The agents' /metrics: promtool passes, and they counted the sessions and steps.
            for port in metricsPorts {
                let text = try #require(httpGet(port, "/metrics")?.body)
                #expect(try promtoolProblems(text, scratch: scratch) == nil)
                #expect(text.contains("lockstep_agent_up 1"))
                let finished = text.split(separator: "\n").first {
                    $0.hasPrefix("lockstep_agent_steps_total{outcome=\"finished\"}")
                }
                #expect(Double(finished?.split(separator: " ").last ?? "") ?? 0 >= 6, "\(finished ?? "none")")
            }
            // Grafana's annotations: one per step.
            let annotations = try #require(
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: out + "/grafana-annotations.json")))
                    as? [[String: Any]])
            #expect(annotations.count == 6)
            #expect(annotations.allSatisfy { ($0["timeEnd"] as? Int64 ?? 0) > ($0["time"] as? Int64 ?? 0) })

            try Self.exportsAreReadByTheirTools(out, scratch: scratch)
        }

        /// Every format of `lockstep export`, checked by the tool that reads it where one is here.
        static func exportsAreReadByTheirTools(_ out: String, scratch: Scratch) throws {
            for format in ["openmetrics", "influx", "bmf", "otava", "pkb"] {
                let export = try ChildProcess(
                    Binaries.coordinator,
                    ["export", out, "--format", format, "--out", "\(scratch.path)/out.\(format)"],
                    scratch: scratch, label: "export-\(format)")
                #expect(export.wait(seconds: 60) == 0, "\(format): \(export.stderr)")
            }
            let tsdb = try ChildProcess(
                "/usr/bin/promtool",
                [
                    "tsdb", "create-blocks-from", "openmetrics", "\(scratch.path)/out.openmetrics",
                    "\(scratch.path)/tsdb",
                ],
                scratch: scratch, label: "tsdb")
            #expect(tsdb.wait(seconds: 120) == 0, "promtool could not import: \(tsdb.stdout)\(tsdb.stderr)")
            let samples = try jsonLines(out + "/samples.jsonl").count
            // Every sample went in (promtool prints the samples of each block it made).
            let imported = tsdb.stdout.split(separator: "\n").dropFirst().compactMap { line in
                line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).first.flatMap { Int($0) }
            }.reduce(0, +)
            #expect(imported == samples, "promtool imported \(imported) of \(samples) samples: \(tsdb.stdout)")
            // Influx line protocol: measurement,tags fields timestamp; one line per sample.
            let influx = try String(contentsOfFile: "\(scratch.path)/out.influx", encoding: .utf8).split(
                separator: "\n")
            #expect(influx.count == samples)
            let shape = try Regex(#"^lockstep(,[^ ]+)? value=[-0-9.e+]+ \d+$"#)
            #expect(influx.allSatisfy { (try? shape.wholeMatch(in: String($0))) != nil }, "\(influx.first ?? "")")
            // Bencher: each cell's headline with lower and upper values.
            let bmf = try #require(
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: "\(scratch.path)/out.bmf")))
                    as? [String: [String: [String: Double]]])
            #expect(Set(bmf.keys) == ["rr-tcp-native", "rr-udp-native", "stream-sut-tx-native"])
            #expect(bmf["rr-tcp-native"]?["latency_mean_us"]?["lower_value"] != nil)
            // PerfKitBenchmarker: its sample fields on every line.
            let pkb = try jsonLines("\(scratch.path)/out.pkb")
            let fields: Set = [
                "metric", "value", "unit", "metadata", "timestamp", "run_uri", "sample_uri", "official", "product_name",
            ]
            #expect(!pkb.isEmpty && pkb.allSatisfy { fields.isSubset(of: Set($0.keys)) })
            // Otava: its own CSV importer reads the file (time column, metrics, attributes).
            let otava = try ChildProcess(
                "/usr/bin/env",
                [
                    "python3", "-c",
                    """
                    import csv, sys
                    rows = list(csv.DictReader(open(sys.argv[1])))
                    assert len(rows) == 1 and rows[0]["time"] and rows[0]["testbed"], rows
                    assert float(rows[0]["rr-tcp-native.latency_mean_us"]) > 0
                    """, "\(scratch.path)/out.otava",
                ], scratch: scratch, label: "otava-csv")
            #expect(otava.wait(seconds: 30) == 0, "\(otava.stderr)")
        }

        /// A receiver of Grafana's annotation API for the test: it records each POST's path,
        /// Authorization header and body as one JSON line, answers 200.
        static let annotationReceiver = """
            import http.server, json, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                    with open(sys.argv[2], "a") as f:
                        f.write(json.dumps({"path": self.path, "auth": self.headers.get("Authorization"), "body": json.loads(body)}) + "\\n")
                    self.send_response(200); self.end_headers(); self.wfile.write(b'{"id":1}')
                def log_message(self, *a): pass
            http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
            """

        /// The endpoint's limits: past `maxConnections` a connection is closed at accept; a client that
        /// sends nothing is closed after the request timeout, and the endpoint serves again.
        @Test func theEndpointClosesWhatItCannotServeAndRecovers() throws {
            let endpoint = try HTTPEndpoint(host: "127.0.0.1", port: 0, maxConnections: 2, requestTimeout: .seconds(1))
            { _ in
                HTTPEndpoint.Response(contentType: "text/plain", text: "ok\n")
            }
            defer { endpoint.close() }
            let port = try #require(Int(endpoint.address.split(separator: ":").last ?? ""))
            #expect(httpGet(port, "/")?.body == "ok\n")
            let silent = [stuckConnection(port), stuckConnection(port)]
            Thread.sleep(forTimeInterval: 0.2)
            #expect(httpGet(port, "/", seconds: 2) == nil, "a third connection was served past the limit of 2")
            Thread.sleep(forTimeInterval: 1.5)  // the silent ones are closed after 1 s
            #expect(httpGet(port, "/", seconds: 2)?.body == "ok\n")
            silent.forEach { close($0) }
        }

        @Test func localStartsItsOwnAgentsAndEventsGoToStandardOutput() throws {
            let scratch = Scratch()
            let grafanaPort = try freePort()
            let posted = scratch.path + "/posted.jsonl"
            let receiver = try ChildProcess(
                "/usr/bin/env", ["python3", "-c", Self.annotationReceiver, String(grafanaPort), posted],
                scratch: scratch, label: "grafana")
            defer { receiver.terminate(signal: SIGKILL) }
            try waitUntilListening(Endpoint(host: "127.0.0.1", port: grafanaPort))
            try "glsa_test_token\n".write(toFile: scratch.path + "/grafana.token", atomically: true, encoding: .utf8)
            let run = try ChildProcess(
                Binaries.coordinator,
                [
                    "rr", "--local", "--duration", "1s", "--warmup", "200ms", "--quiet", "--events", "-", "--out",
                    scratch.path + "/rr", "--grafana", "http://127.0.0.1:\(grafanaPort)", "--grafana-token-file",
                    scratch.path + "/grafana.token",
                ], scratch: scratch, label: "local")
            #expect(run.wait(seconds: 60) == 0, "\(run.stderr)")
            // The step went to Grafana's annotation API with the token.
            try expectEventually(seconds: 10, "no annotation was posted") {
                FileManager.default.fileExists(atPath: posted)
            }
            let post = try #require(try jsonLines(posted).first)
            #expect(post["path"] as? String == "/api/annotations")
            #expect(post["auth"] as? String == "Bearer glsa_test_token")
            let body = try #require(post["body"] as? [String: Any])
            #expect((body["tags"] as? [String])?.contains("lockstep") == true)
            #expect((body["timeEnd"] as? Int64 ?? 0) > (body["time"] as? Int64 ?? 0))
            let events = run.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
            #expect(events.contains { $0.contains("\"event\":\"run.end\"") }, "\(run.stdout)")
            #expect(FileManager.default.fileExists(atPath: scratch.path + "/rr/samples.jsonl"))
            // A plan's dry run with --local checks the modes against its own agents.
            let planPath = scratch.path + "/plan.yaml"
            try Self.plan.write(toFile: planPath, atomically: true, encoding: .utf8)
            let dry = try ChildProcess(
                Binaries.coordinator, ["run", planPath, "--local", "--dry-run", "--out", scratch.path + "/dry"],
                scratch: scratch, label: "dry")
            #expect(dry.wait(seconds: 60) == 0, "\(dry.stderr)")
            #expect(dry.stdout.contains("prerequisites: every mode can run"), "\(dry.stdout)")
            // --local with --sut is a mistake said in one line.
            let both = try ChildProcess(
                Binaries.coordinator, ["rr", "--local", "--sut", "127.0.0.1:1", "--out", scratch.path + "/x"],
                scratch: scratch, label: "both")
            #expect(both.wait(seconds: 30) != 0)
            #expect(both.stderr.contains("--local starts its own agents"))
            // A run with --local that fails (here the SUT cannot pin to CPU 1000) ends with one line,
            // and its agents end with it (the error's exit skipped the stop: they were left running).
            let agentsBefore = processes(mentioning: "lockstep-quickstart-").count
            let failed = try ChildProcess(
                Binaries.coordinator,
                [
                    "rr", "--local", "--sut-cpus", "1000", "--duration", "0.5s", "--warmup", "0", "--out",
                    scratch.path + "/failed",
                ], scratch: scratch, label: "failed")
            #expect(failed.wait(seconds: 60) == 1, "\(failed.stderr)")
            #expect(failed.stderr.contains("lockstep: error:"), "\(failed.stderr)")
            try expectEventually(seconds: 5, "a failed --local run left its agents running") {
                processes(mentioning: "lockstep-quickstart-").count == agentsBefore
            }
        }

        /// A plan and a results folder whose paths hold spaces and non-ASCII letters: the run, its
        /// resume and the report take them as they are.
        @Test func pathsWithSpacesAndNonASCIINamesWork() throws {
            let scratch = Scratch()
            let folder = scratch.path + "/with space/résultats ü 実験"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let plan = folder + "/plan ü.yaml"
            try "modes: [native]\nexperiments:\n  - rr: {duration: 300ms, warmup: 0s}\n".write(
                toFile: plan, atomically: true, encoding: .utf8)
            let out = folder + "/run 1 é"
            let run = try ChildProcess(
                Binaries.coordinator, ["run", plan, "--local", "--quiet", "--out", out], scratch: scratch, label: "run")
            #expect(run.wait(seconds: 60) == 0, "\(run.stderr)")
            let info = try jsonObject(out + "/run.json")
            #expect(info["status"] as? String == "complete", "\(info["status"] ?? "-")")
            let resume = try ChildProcess(
                Binaries.coordinator, ["run", plan, "--local", "--quiet", "--resume", out], scratch: scratch,
                label: "resume")
            #expect(resume.wait(seconds: 60) == 0, "\(resume.stderr)")
            #expect(try jsonObject(out + "/run.json")["status"] as? String == "complete")
            #expect(try jsonLines(out + "/samples.jsonl").count > 0)
            let page = folder + "/report ü.html"
            let report = try ChildProcess(
                Binaries.coordinator, ["report", out, "--out", page], scratch: scratch, label: "report")
            #expect(report.wait(seconds: 60) == 0, "\(report.stderr)")
            #expect(FileManager.default.fileExists(atPath: page))
        }
    }
}
