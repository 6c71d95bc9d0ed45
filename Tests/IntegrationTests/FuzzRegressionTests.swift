import Foundation
import Testing

@testable import Fuzz

/// Every input the fuzzer was seeded with or once crashed on goes through every decoder again.
@Suite struct FuzzRegressionTests {
    static let fuzzFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("fuzz").path

    @Test func seedsAndSavedCrashesDecodeWithoutTrapping() throws {
        let folders = ["corpus/wire", "corpus/resp", "corpus/mysql", "corpus/fio", "regressions"].map {
            "\(Self.fuzzFolder)/\($0)"
        }
        var replayed = 0
        for folder in folders {
            for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name != "README.md" {
                let data = try #require(FileManager.default.contents(atPath: "\(folder)/\(name)"))
                for target in FuzzTargets.all.values { data.withUnsafeBytes { target($0) } }
                replayed += 1
            }
        }
        #expect(replayed >= 16, "the seed corpus went missing (\(replayed) inputs)")
    }
}
