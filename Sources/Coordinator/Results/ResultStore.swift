import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// The run directory. Every file is written as soon as its data exists: samples are appended and
/// flushed as each step ends; whole files are written to a temporary name and renamed.
final class ResultStore {
    let directory: String

    /// Creates the directory (and `histograms/`); refuses one that already holds a run.
    init(directory: String) throws {
        self.directory = directory
        let fm = FileManager.default
        if fm.fileExists(atPath: "\(directory)/run.json") {
            throw WireError(.results, "\(directory) already holds a run (run.json exists); choose another --out")
        }
        do {
            try fm.createDirectory(atPath: "\(directory)/histograms", withIntermediateDirectories: true)
        } catch {
            throw WireError(.results, "cannot create results directory \(directory): \(error.localizedDescription)")
        }
    }

    /// Writes `run.json`.
    func writeRunInfo(_ info: RunInfo) throws {
        try replace("run.json", with: Self.json(info, pretty: true))
    }

    /// Appends samples to `samples.jsonl` and syncs the file.
    func append(_ samples: [MetricSample]) throws {
        var data = Data()
        for sample in samples {
            data.append(try Self.json(sample))
            data.append(0x0A)
        }
        let path = "\(directory)/samples.jsonl"
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WireError(.results, "cannot open \(path)") }
        defer { close(fd) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count else { throw WireError(.results, "short write to \(path)") }
        fsync(fd)
    }

    /// Writes `histograms/<step>.hgrm`.
    func writeHistogram(step: String, text: String) throws {
        try replace("histograms/\(step).hgrm", with: Data(text.utf8))
    }

    /// Writes `summary.csv`.
    func writeSummary(_ csv: String) throws {
        try replace("summary.csv", with: Data(csv.utf8))
    }

    /// Writes `merged-log.jsonl`.
    func writeMergedLog(_ lines: [MergedLog.Line]) throws {
        var data = Data()
        for line in lines {
            data.append(try Self.json(line))
            data.append(0x0A)
        }
        try replace("merged-log.jsonl", with: data)
    }

    private func replace(_ name: String, with data: Data) throws {
        let path = "\(directory)/\(name)"
        let temp = "\(path).tmp"
        do {
            try data.write(to: URL(fileURLWithPath: temp))
            guard rename(temp, path) == 0 else { throw WireError(.results, "cannot rename \(temp)") }
        } catch let error as WireError {
            throw error
        } catch {
            throw WireError(.results, "cannot write \(path): \(error.localizedDescription)")
        }
    }

    private static func json<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        return try encoder.encode(value)
    }
}
