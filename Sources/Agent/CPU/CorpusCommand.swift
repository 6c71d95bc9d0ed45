import ArgumentParser
import Foundation
import Shared

/// `lockstep-agent corpus`: writes the compression workload's corpus (the bytes a step of seed and
/// size compresses) to a file and prints its sha256, so the compressor can be run on it alone
/// (`bench/cpu.sh`) and a result's `corpusSHA256` checked.
struct CorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus", abstract: "Write the compression workload's corpus of a seed and size; print its sha256."
    )

    @Option(help: "The generator's seed.")
    var seed: UInt64 = 1

    @Option(help: "Bytes to write.")
    var size: Int

    @Option(help: "The file to write.")
    var out: String

    func run() throws {
        let spec = CompressSpec(threads: 1, level: 0, size: size, seed: seed)
        if let problem = spec.problems().first(where: { $0.contains("size") }) { throw ValidationError(problem) }
        let folder = (out as NSString).deletingLastPathComponent
        let (path, digest) = try CompressEngine.corpus(spec, folder: folder.isEmpty ? "." : folder)
        if path != out {
            try? FileManager.default.removeItem(atPath: out)
            try FileManager.default.moveItem(atPath: path, toPath: out)
            try? FileManager.default.removeItem(atPath: path + ".sha256")
        }
        print(digest)
    }
}
