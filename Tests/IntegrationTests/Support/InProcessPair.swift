import Foundation
import Shared
import TestSupport

@testable import Coordinator

/// Two in-process agents on loopback; servers the SUT agent starts are children of the test process.
struct InProcessPair {
    let scratch = Scratch()
    let token: Token
    let sut: InProcessAgent
    let peer: InProcessAgent

    /// The agents prove `token`, or a fresh one.
    init(token: Token? = nil) async throws {
        let token = try token ?? scratch.token().token
        self.token = token
        sut = try await InProcessAgent(name: "sut", token: token)
        peer = try await InProcessAgent(name: "peer", token: token)
    }

    /// Runs one step per workload (300 ms warm-up, then the window) as one run writing to `out`.
    func run(
        _ workloads: [Workload], durationNs: Int64 = 1_000_000_000, placement: Placement = Placement(), out: String
    ) async throws -> [StepOutcome] {
        let timing = StepTiming(warmupNs: 300_000_000, durationNs: durationNs)
        return try await run(
            steps: workloads.map { PlannedStep($0, timing: timing, placement: placement) }, out: out)
    }

    /// Runs `steps` as one run between the two agents, writing to `out`.
    func run(steps: [PlannedStep], out: String) async throws -> [StepOutcome] {
        let plan = RunPlan(
            sut: sut.endpoint, peer: peer.endpoint, sutDataHost: "127.0.0.1", token: token, steps: steps,
            outDirectory: out, command: "test")
        return try await BenchmarkRun(plan: plan, progress: { _ in }).run()
    }

    func shutdown() async {
        await sut.shutdown()
        await peer.shutdown()
    }
}
