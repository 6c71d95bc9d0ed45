import Foundation
import Histogram
import Shared

/// TCP_RR / UDP_RR: transactions per second and round-trip latency, from the peer's ``RRClientResult``.
extension RRWorkload: GeneratorMetrics {
    typealias Client = RRClientResult

    static func rows(_ o: StepOutcome, labels: [String: String]) -> [MetricSample] {
        guard let r = client(o) else { return [] }
        let seconds = o.windowSeconds
        return [
            transactionsPerSec.sample(Double(r.transactions) / seconds, labels),
            transactions.sample(Double(r.transactions), labels),
        ]
            + latency.rows(r.latency.histogram(), labels: labels)
            + oneWayRows(r.oneWay, o, labels: labels) + CommonMetrics.openLoopRows(r.load, o, labels: labels)
            + [
                lostTransactions.sample(Double(r.lost), labels),
                clientCPUPerKtx.sample(r.load.cpuSeconds / max(Double(r.transactions) / 1000, 1e-9), labels),
                CommonMetrics.window.sample(seconds, labels),
            ]
    }

    /// Both flights, the SUT's time and the bound that applies to the flights; a flight whose mean
    /// is inside the bound is not written (the bound says more than the number would).
    static func oneWayRows(_ oneWay: RROneWay?, _ o: StepOutcome, labels: [String: String]) -> [MetricSample] {
        guard let oneWay, !oneWay.request.counts.isEmpty, let boundNs = oneWayBoundNs(o) else { return [] }
        let bound = Double(boundNs) / 1e3
        var out = [owdBound.sample(bound, labels)]
        let request = oneWay.request.histogram()
        if request.mean / 1e3 > bound { out += owdRequest.rows(request, labels: labels) }
        out += sutTime.rows(oneWay.sut.histogram(), labels: labels)
        let response = oneWay.response.histogram()
        if response.mean / 1e3 > bound { out += owdResponse.rows(response, labels: labels) }
        return out + [owdClamped.sample(Double(oneWay.clamped), labels)]
    }

    /// The error bound of a one-way delay read between the SUT and a peer: both clocks' bounds, and
    /// how far their offset moved over the step (the peer read with the offset from before it); the
    /// widest of the peers. `nil` without a SUT or peer clock.
    static func oneWayBoundNs(_ o: StepOutcome) -> Int64? {
        guard let sut = o.sides.first(where: { $0.role == .sut }) else { return nil }
        return o.peers.map { peer in
            let before = sut.clock.before.offsetNs - peer.clock.before.offsetNs
            let after =
                (sut.clock.after ?? sut.clock.before).offsetNs - (peer.clock.after ?? peer.clock.before).offsetNs
            return sut.clock.errorNs + peer.clock.errorNs + abs(after - before)
        }.max()
    }

    static let columns: [SummaryColumn] = [
        .step,
        column("test") { "\($0.proto.rawValue.uppercased())_RR" },
        column("req/resp") { "\($0.requestSize)/\($0.responseSize)" },
        column("flows") { String($0.flows) },
        .metric("trans/s", transactionsPerSec, "%.0f"), .metric("mean us", latency.mean),
        .metric("p50 us", latency.percentiles[0].metric), .metric("p99 us", latency.percentiles[2].metric),
        .metric("p99.9 us", latency.percentiles[3].metric), .metric("req us", owdRequest.mean),
        .metric("SUT us", sutTime.mean), .metric("resp us", owdResponse.mean), .metric("+/- us", owdBound, "%.2f"),
        .metric("lost", lostTransactions, "%.0f"),
        .sutCPU, .skew,
    ]

    static let figures: [FigureSpec] = [
        .bars(
            .init(
                id: "rr-latency", title: "Request/response: mean round-trip latency",
                caption:
                    "Mean round-trip time per mode (netperf TCP_RR/UDP_RR; the paper's Fig. 3). Whiskers: the mean's confidence interval over repetitions.",
                point: point, charts: [.init("Mean round-trip latency", yLabel: "latency (us)", latency.mean)],
                table: [latency.mean, latency.percentiles[2].metric, transactionsPerSec])),
        .bars(
            .init(
                id: "rr-one-way", title: "Request/response: the round trip split",
                caption:
                    "Each mode's mean round trip as its three parts: the request's flight (the peer's send to the SUT's receive), the SUT's own time (receive to send) and the response's flight, read off the SUT's stamps with the agents' synchronized clocks. Where NAT or a VM adds its cost, and on which path. The table gives the clock bound that applies to both flights; a flight inside its bound is not drawn.",
                point: point,
                charts: [
                    .init(
                        "One-way delays", yLabel: "latency (us)",
                        [(owdRequest.mean, "request"), (sutTime.mean, "SUT"), (owdResponse.mean, "response")])
                ],
                table: [owdRequest.mean, sutTime.mean, owdResponse.mean, owdBound, latency.mean])),
        .latencyAgainstLoad(
            id: "rr-open-loop", title: "Request/response: latency against offered load", rate: transactionsPerSec,
            latency: latency),
        .percentiles(
            .init(
                id: "rr-percentiles", title: "Request/response: latency distribution",
                caption:
                    "Each mode's round-trip latency by percentile, HdrHistogram style (the first repetition's histogram of each cell), on a logarithmic latency axis.",
                point: point)),
    ]

    @Sendable private static func point(_ workload: Workload) -> String {
        guard let s = workload.spec(RRSpec.self) else { return "" }
        return "\(s.proto.rawValue.uppercased())_RR \(s.requestSize)/\(s.responseSize), \(s.flows) flow(s)"
            + OpenLoop.summary(s.rate)
    }

    static var options: (any WorkloadOptions.Type)? { RROptions.self }
}
