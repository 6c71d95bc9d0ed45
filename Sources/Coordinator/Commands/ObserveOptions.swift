import ArgumentParser
import Foundation
import Observe
import Shared

/// How a run is watched while it goes: the live page, `/metrics`, the event stream and Grafana's
/// annotations. Every workload command, `run` and `quickstart` take these.
struct ObserveOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Serve the live page at http://ADDR/ while the run goes (PORT or HOST:PORT; a bare port binds 127.0.0.1).",
            valueName: "addr"))
    var serve: String?

    @Option(
        help: ArgumentHelp(
            "Serve Prometheus metrics of the run at http://ADDR/metrics (PORT or HOST:PORT; a bare port binds 127.0.0.1).",
            valueName: "addr"))
    var metrics: String?

    @Option(
        help: ArgumentHelp(
            "Write newline-delimited JSON events (run, steps, every interval sample, aggregates) to FILE, or - for stdout.",
            valueName: "file"))
    var events: String?

    @Option(help: "Post each step as an annotation to this Grafana (its base URL), with --grafana-token-file.")
    var grafana: String?

    @Option(help: "File holding a Grafana service account token (for --grafana).")
    var grafanaTokenFile: String?

    func validate() throws {
        for (flag, value) in [("--serve", serve), ("--metrics", metrics)] {
            if let value, Self.address(value) == nil {
                throw ValidationError("\(flag) must be PORT or HOST:PORT, got '\(value)'")
            }
        }
        if (grafana == nil) != (grafanaTokenFile == nil) {
            throw ValidationError("--grafana and --grafana-token-file go together")
        }
        if let grafana, URL(string: grafana)?.scheme?.hasPrefix("http") != true {
            throw ValidationError("--grafana must be an http(s) URL, got '\(grafana)'")
        }
    }

    /// `PORT` (on 127.0.0.1) or `HOST:PORT`.
    static func address(_ text: String) -> Endpoint? {
        if let port = Int(text), (0...65535).contains(port) { return Endpoint(host: "127.0.0.1", port: port) }
        return Endpoint(parsing: text)
    }

    /// Starts what was asked for the run writing into `directory`; say where on stderr.
    func start(directory: String) throws -> Observation {
        var observers: [any RunObserver] = []
        var endpoints: [HTTPEndpoint] = []
        var streams: [EventStream] = []
        let annotations = GrafanaAnnotations(
            directory: directory, grafana: grafana, tokenFile: grafanaTokenFile)
        observers.append(annotations)
        if let events {
            let stream = try EventStream(path: events)
            observers.append(stream)
            streams.append(stream)
        }
        let runMetrics = metrics.map { _ in RunMetrics() }
        let page = serve.map { _ in LivePage(directory: directory) }
        if let runMetrics { observers.append(runMetrics) }
        if let page { observers.append(page) }
        let handler: HTTPEndpoint.Handler = { path in
            switch path {
            case "/metrics":
                guard let runMetrics else { return .notFound }
                return HTTPEndpoint.Response(
                    contentType: "text/plain; version=0.0.4; charset=utf-8", text: runMetrics.text())
            case "/", "/index.html":
                guard let page else { return .notFound }
                return HTTPEndpoint.Response(contentType: "text/html; charset=utf-8", text: page.html())
            case "/status.json":
                guard let page else { return .notFound }
                return HTTPEndpoint.Response(contentType: "application/json", text: page.statusJSON())
            default:
                return .notFound
            }
        }
        let servePlace = serve.flatMap(Self.address)?.description
        let metricsPlace = metrics.flatMap(Self.address)?.description
        for place in Array(Set([servePlace, metricsPlace].compactMap { $0 })).sorted() {
            let asked = Endpoint(parsing: place)!
            let endpoint: HTTPEndpoint
            do {
                endpoint = try HTTPEndpoint(host: asked.host, port: asked.port, handler: handler)
            } catch {
                endpoints.forEach { $0.close() }
                throw ResultsError(.results, "cannot serve on \(place): \(error)")
            }
            endpoints.append(endpoint)
            let what = [place == servePlace ? "the live page /" : nil, place == metricsPlace ? "/metrics" : nil]
                .compactMap { $0 }.joined(separator: " and ")
            let note =
                asked.host.hasPrefix("127.") || asked.host == "localhost"
                ? " (bound to \(asked.host) only: give 0.0.0.0:PORT to serve other machines)" : ""
            FileHandle.standardError.write(
                Data("lockstep: serving \(what) at http://\(endpoint.address)/\(note)\n".utf8))
        }
        return Observation(observer: RunObservers(all: observers), endpoints: endpoints, streams: streams)
    }
}

/// What watches one run; closed when the command ends.
struct Observation {
    var observer: (any RunObserver)?
    var endpoints: [HTTPEndpoint]
    var streams: [EventStream]

    func close() {
        endpoints.forEach { $0.close() }
        for stream in streams { stream.flush(seconds: 2) }
        for stream in streams where stream.droppedLines > 0 {
            FileHandle.standardError.write(
                Data("lockstep: warning: \(stream.droppedLines) event line(s) not taken by the reader\n".utf8))
        }
    }
}
