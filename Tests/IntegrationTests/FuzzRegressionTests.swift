import Coordinator
import Foundation
import Testing

@testable import Fuzz

/// Every input the fuzzer was seeded with or once crashed on goes through every decoder again.
@Suite struct FuzzRegressionTests {
    static let fuzzFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("fuzz").path

    @Test func seedsAndSavedCrashesDecodeWithoutTrapping() throws {
        let corpus = "\(Self.fuzzFolder)/corpus"
        // Every target has seeds of its own.
        let seeded = try FileManager.default.contentsOfDirectory(atPath: corpus)
        #expect(Set(seeded) == Set(FuzzTargets.all.keys), "corpus folders \(seeded.sorted())")
        let folders = seeded.sorted().map { "\(corpus)/\($0)" } + ["\(Self.fuzzFolder)/regressions"]
        var replayed = 0
        for folder in folders {
            for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name != "README.md" {
                let data = try #require(FileManager.default.contents(atPath: "\(folder)/\(name)"))
                for target in FuzzTargets.all.values { data.withUnsafeBytes { target($0) } }
                replayed += 1
            }
        }
        #expect(replayed >= 30, "the seed corpus went missing (\(replayed) inputs)")
    }

    /// The plan, lab and pod seeds are inputs their readers accept (a seed that fails at its first
    /// line leaves the fuzzer only the error path to start from).
    @Test func theReadersAcceptTheirSeeds() throws {
        for (target, read) in [
            ("plan", { try UserInputReaders.plan(String(decoding: $0, as: UTF8.self)) }),
            ("lab", { try UserInputReaders.lab(String(decoding: $0, as: UTF8.self)) }),
            ("pods", { try UserInputReaders.kubernetesPods($0) }),
        ] as [(String, (Data) throws -> Int)] {
            let folder = "\(Self.fuzzFolder)/corpus/\(target)"
            for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
                let data = try #require(FileManager.default.contents(atPath: "\(folder)/\(name)"))
                #expect(try read(data) > 0, "\(target)/\(name)")
            }
        }
    }
}
