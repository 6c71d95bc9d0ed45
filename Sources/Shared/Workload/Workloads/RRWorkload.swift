/// netperf-style request/response (TCP_RR, UDP_RR): a responder on the SUT, flows on the peers.
package enum RRWorkload: WorkloadType {
    /// The workload's parameters.
    package typealias Spec = RRSpec

    /// Who takes part and how the window ends.
    package static let shape = WorkloadShape.clientServer(guestPortSlot: 1, udp: true)

    /// Request/response transactions completed per second in the window.
    package static let transactionsPerSec = Metric(
        "transactions_per_sec", unit: "transactions/s", kind: .gauge, better: .higher,
        help: "request/response transactions completed per second in the window")
    /// Transactions completed in the window.
    package static let transactions = Metric(
        "transactions", unit: "transactions", kind: .counter, better: .neither,
        help: "transactions completed in the window")
    /// Latency from its histogram: mean, percentiles, maximum.
    package static let latency = LatencyMetrics(
        unit: "us", percentiles: [("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9)],
        of: "a transaction's round trip")
    /// UDP requests whose response did not come within the loss timeout.
    package static let lostTransactions = Metric(
        "lost_transactions", unit: "transactions", kind: .counter, better: .lower,
        help: "UDP requests whose response did not come within the loss timeout")
    /// The generator threads' CPU time per thousand transactions.
    package static let clientCPUPerKtx = Metric(
        "client_cpu_seconds_per_ktx", unit: "s/ktx", kind: .gauge, better: .lower,
        help: "the generator threads' CPU time per thousand transactions")

    /// The request's flight, the peer's send to the SUT's receive (one-way, across two clocks).
    package static let owdRequest = LatencyMetrics(
        unit: "us", percentiles: [("p50", 50), ("p99", 99)],
        of: "a request's one-way flight from the peer's send to the SUT's receive", prefix: "owd_request")
    /// The SUT's time, its receive to its send (one clock).
    package static let sutTime = LatencyMetrics(
        unit: "us", percentiles: [("p50", 50), ("p99", 99)],
        of: "the SUT's time from a request's receive to its response's send",
        prefix: "sut_time")
    /// The response's flight, the SUT's send to the peer's receive.
    package static let owdResponse = LatencyMetrics(
        unit: "us", percentiles: [("p50", 50), ("p99", 99)],
        of: "a response's one-way flight from the SUT's send to the peer's receive", prefix: "owd_response")
    /// How far off either one-way delay can be: both agents' clock error bounds and the drift of
    /// their offset over the step.
    package static let owdBound = Metric(
        "owd_bound_us", unit: "us", kind: .gauge, better: .lower,
        help: "bound on the error of a one-way delay: both agents' clock bounds and their offset's drift over the step")
    /// Transactions whose one-way delay came out negative (the clock offset off by more than the flight).
    package static let owdClamped = Metric(
        "owd_clamped_transactions", unit: "transactions", kind: .counter, better: .lower,
        help:
            "transactions whose one-way delay came out negative and was counted as 0 (the clock bound exceeds the flight)"
    )

    /// Every metric it reports, and its headline.
    package static let catalog = MetricCatalog(
        [transactionsPerSec, transactions] + latency.all + owdRequest.all + sutTime.all + owdResponse.all
            + [owdBound, owdClamped, lostTransactions, clientCPUPerKtx, CommonMetrics.window] + CommonMetrics.openLoop,
        headline: [latency.mean, transactionsPerSec, CommonMetrics.sutCPUPerOp, CommonMetrics.hostCPUPerOp])

    /// The results its sides report.
    package static let resultTypes: [any WorkloadResult.Type] = [RRClientResult.self, RRServerResult.self]

    /// The result the agent in `role` reports.
    package static func resultType(of spec: RRSpec, role: Role) -> (any WorkloadResult.Type)? {
        role == .peer ? RRClientResult.self : RRServerResult.self
    }

    /// What the peers split.
    package static func loadUnits(of spec: RRSpec) -> Int { spec.flows }

    /// A peer's share of the load: `units` of it.
    package static func share(of spec: RRSpec, units: Int, part: Int, of count: Int) -> RRSpec {
        var s = spec
        s.flows = units
        s.rate = OpenLoop.share(spec.rate, units: units, of: spec.flows)
        return s
    }

    /// The metric of its per-second rate.
    package static var intervalRate: Metric? { transactionsPerSec }
}

extension RRClientResult: WorkloadResult {
    /// Its threads, for the validity checks.
    package var generatorLoad: LoadThreads? { load }
    /// The result's name on the wire.
    package static let resultKind = "rrClient"
    /// Operations it completed in the window.
    package var completions: UInt64? { transactions }

    /// Several peers' results as one.
    package static func merged(_ all: [RRClientResult]) -> RRClientResult? {
        RRClientResult(
            transactions: all.map(\.transactions).reduce(0, +), lost: all.map(\.lost).reduce(0, +),
            latency: .merged(all.map(\.latency)), load: .merged(all.map(\.load)),
            oneWay: .merged(all.map(\.oneWay)))
    }
}

extension RRServerResult: WorkloadResult {
    /// The result's name on the wire.
    package static let resultKind = "rrServer"
    /// Operations it completed in the window.
    package var completions: UInt64? { served }
}
