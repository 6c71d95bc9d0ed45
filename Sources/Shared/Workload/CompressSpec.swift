/// The compressor of a compression point.
package enum CompressTool: String, Codable, Sendable, CaseIterable {
    /// `xz -T N`: multi-threaded xz in blocks.
    case xz
    /// `pixz -p N`: parallel, indexed xz.
    case pixz

    /// The Debian package that installs it.
    package var package: String { self == .xz ? "xz-utils" : "pixz" }
}

/// A compression point: `xz -T threads -level` (or pixz) over a deterministic corpus the agent
/// generates from `seed` (text-like and binary-like halves), read from the page cache; the output is
/// counted and thrown away. Runs to completion on the SUT alone.
package struct CompressSpec: WorkloadSpec {
    package var tool: CompressTool
    package var threads: Int
    /// The compression level, 0...9.
    package var level: Int
    /// The corpus's size, bytes.
    package var size: Int
    /// The corpus generator's seed: the same seed and size give the same bytes everywhere.
    package var seed: UInt64
    /// How long a run may take before it counts as hung, seconds.
    package var timeLimitSeconds: Int

    package init(
        tool: CompressTool = .xz, threads: Int, level: Int, size: Int, seed: UInt64 = 1, timeLimitSeconds: Int = 1800
    ) {
        self.tool = tool
        self.threads = threads
        self.level = level
        self.size = size
        self.seed = seed
        self.timeLimitSeconds = timeLimitSeconds
    }

    package func problems() -> [String] {
        var out: [String] = []
        if !(1...1024).contains(threads) { out.append("--threads must be 1...1024, got \(threads)") }
        if !(0...9).contains(level) { out.append("--level must be 0...9, got \(level)") }
        if !((1 << 20)...(64 << 30)).contains(size) { out.append("--size must be 1 MiB ... 64 GiB, got \(size) bytes") }
        if !(10...86_400).contains(timeLimitSeconds) {
            out.append("--time-limit must be 10 s ... 24 h, got \(timeLimitSeconds) s")
        }
        return out
    }

    /// Generating the corpus: about a second per 100 MiB, with room.
    package var prepareBudgetNs: Int64 { 30_000_000_000 + Int64(size / (10 << 20)) * 1_000_000_000 }

    /// A compression runs to completion: its time limit bounds the step.
    package var completionBudgetNs: Int64? { Int64(timeLimitSeconds) * 1_000_000_000 }
}

extension CompressSpec {
    package static let kind = "compress"

    package var labels: [String: String] {
        [
            "tool": tool.rawValue, "threads": String(threads), "level": String(level), "size_bytes": String(size),
            "seed": String(seed),
        ]
    }

    package var stepName: String { "compress-\(tool.rawValue)-t\(threads)-l\(level)" }

    package var summary: String {
        "\(tool.rawValue) -T\(threads) -\(level) over a \(size >> 20) MiB corpus (seed \(seed))"
    }
}
