/// A CPU and memory point: the HPC Challenge suite (Debian's `hpcc`: HPL, STREAM, RandomAccess and
/// the rest) under OpenMPI on the SUT alone, one rank per CPU of the placement, run to completion.
/// The problem size is `n`, or the largest N (a multiple of `nb`) whose matrix fills
/// `memoryFraction` of the memory the placement may use, as PerfKitBenchmarker sizes it.
package struct HpccSpec: WorkloadSpec {
    /// HPL's order N; `nil`: from `memoryFraction`.
    package var n: Int?
    /// Share of the placement's available memory HPL's matrix fills when `n` is not given.
    package var memoryFraction: Double
    /// HPL's block size NB.
    package var nb: Int
    /// MPI ranks; `nil`: one per CPU the placement may use.
    package var ranks: Int?
    /// How long the suite may run before it counts as hung, seconds.
    package var timeLimitSeconds: Int

    package init(
        n: Int? = nil, memoryFraction: Double = 0.25, nb: Int = 192, ranks: Int? = nil, timeLimitSeconds: Int = 3600
    ) {
        self.n = n
        self.memoryFraction = memoryFraction
        self.nb = nb
        self.ranks = ranks
        self.timeLimitSeconds = timeLimitSeconds
    }

    package func problems() -> [String] {
        var out: [String] = []
        if let n, !(100...1_000_000).contains(n) { out.append("--n must be 100...1000000, got \(n)") }
        if !(memoryFraction > 0 && memoryFraction <= 0.9) {
            out.append("--memory-fraction must be above 0 and at most 0.9, got \(memoryFraction)")
        }
        if !(8...1024).contains(nb) { out.append("--nb must be 8...1024, got \(nb)") }
        if let ranks, !(1...1024).contains(ranks) { out.append("--ranks must be 1...1024, got \(ranks)") }
        if !(10...86_400).contains(timeLimitSeconds) {
            out.append("--time-limit must be 10 s ... 24 h, got \(timeLimitSeconds) s")
        }
        return out
    }

    /// Finding the engines, sizing the problem, writing its input: seconds.
    package var prepareBudgetNs: Int64 { 30_000_000_000 }

    /// The suite runs to completion: its time limit bounds the step.
    package var completionBudgetNs: Int64? { Int64(timeLimitSeconds) * 1_000_000_000 }
}

extension HpccSpec {
    package static let kind = "hpcc"

    package var labels: [String: String] {
        var l = ["nb": String(nb)]
        if let n { l["n"] = String(n) } else { l["memory_fraction"] = String(memoryFraction) }
        return l
    }

    package var stepName: String { n.map { "hpcc-n\($0)" } ?? "hpcc-mem\(Int((memoryFraction * 100).rounded()))" }

    package var summary: String {
        "hpcc " + (n.map { "N=\($0)" } ?? "N from \(Int((memoryFraction * 100).rounded()))% of memory")
            + ", NB=\(nb), " + (ranks.map { "\($0) ranks" } ?? "a rank per CPU")
    }
}
