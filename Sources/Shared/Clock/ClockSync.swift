/// One NTP-style exchange: coordinator send `t0`, agent receive `t1`, agent send `t2`, coordinator receive `t3`.
package struct ClockExchange: Codable, Equatable, Sendable {
    /// Coordinator clock when the probe was sent.
    package var t0: Int64
    /// Agent clock when the probe arrived.
    package var t1: Int64
    /// Agent clock when the reply left.
    package var t2: Int64
    /// Coordinator clock when the reply arrived.
    package var t3: Int64

    package init(t0: Int64, t1: Int64, t2: Int64, t3: Int64) {
        self.t0 = t0
        self.t1 = t1
        self.t2 = t2
        self.t3 = t3
    }

    /// Round trip minus the agent's time between receive and send.
    package var roundTripNs: Int64 { (t3 - t0) - (t2 - t1) }
    /// Agent clock minus coordinator clock.
    package var offsetNs: Int64 { ((t1 - t0) + (t2 - t3)) / 2 }
}

/// An agent's clock offset: agent time = coordinator time + `offsetNs`, true within `errorNs`.
package struct ClockEstimate: Codable, Equatable, Sendable {
    /// Agent clock minus coordinator clock, nanoseconds.
    package var offsetNs: Int64
    /// Bound on the offset's error: half the best round trip.
    package var errorNs: Int64
    /// Round trip of the exchange the estimate came from.
    package var roundTripNs: Int64
    /// When it was taken, on the coordinator's clock (middle of the best exchange).
    package var atNs: Int64
    /// Exchanges the estimate chose from.
    package var probes: Int
    /// How the probes travelled: `udp-kernel-timestamps`, `udp`, or `control-channel`.
    package var method: String?
    /// Where the exchanges' four times came from.
    package var stamps: ClockStamps?
    /// The sync's best exchanges, for the drift fit over consecutive syncs.
    package var points: [ClockPoint] = []

    package init(offsetNs: Int64, errorNs: Int64, roundTripNs: Int64, atNs: Int64, probes: Int) {
        self.offsetNs = offsetNs
        self.errorNs = errorNs
        self.roundTripNs = roundTripNs
        self.atNs = atNs
        self.probes = probes
    }

    /// The estimate from the exchange with the smallest round trip; `nil` for no exchanges.
    package init?(exchanges: [ClockExchange]) {
        guard let best = exchanges.min(by: { $0.roundTripNs < $1.roundTripNs }) else { return nil }
        let rtt = max(best.roundTripNs, 0)
        self.init(
            offsetNs: best.offsetNs, errorNs: (rtt + 1) / 2, roundTripNs: rtt,
            atNs: best.t0 + (best.t3 - best.t0) / 2, probes: exchanges.count)
        points = ClockPoint.best(of: exchanges)
    }

    /// Agent time to coordinator time.
    package func toCoordinator(_ agentNs: Int64) -> Int64 { agentNs - offsetNs }
    /// Coordinator time to agent time.
    package func toAgent(_ coordinatorNs: Int64) -> Int64 { coordinatorNs + offsetNs }
}

/// An agent's offset before and after a run; maps agent times by linear interpolation between them.
package struct ClockTrack: Codable, Equatable, Sendable {
    /// Estimate before the step or run.
    package var before: ClockEstimate
    /// Estimate after it, once taken.
    package var after: ClockEstimate?
    /// The best exchanges of every sync the track spans (before, any in between, after).
    package var points: [ClockPoint]

    package init(before: ClockEstimate, after: ClockEstimate? = nil) {
        self.before = before
        self.after = after
        points = before.points + (after?.points ?? [])
    }

    /// The track continued to a later sync: `after` becomes `estimate`, whose points join the fit.
    package func extended(to estimate: ClockEstimate) -> ClockTrack {
        var next = self
        next.after = estimate
        next.points += estimate.points
        return next
    }

    /// The drift fitted over every sync's best exchanges; `nil` before a second sync.
    package var driftFit: DriftFit? { after == nil ? nil : DriftFit(points) }

    /// Offset change per second of coordinator time, in parts per million: the fit where there is
    /// one, else the slope between the two estimates.
    package var driftPPM: Double? {
        if let fit = driftFit { return fit.ppm }
        guard let after, after.atNs != before.atNs else { return nil }
        return Double(after.offsetNs - before.offsetNs) / Double(after.atNs - before.atNs) * 1e6
    }

    /// The larger error bound of the two estimates.
    package var errorNs: Int64 { max(before.errorNs, after?.errorNs ?? 0) }

    /// The offset at coordinator time `t`, interpolated between the two estimates (held outside them).
    package func offset(atCoordinator t: Int64) -> Int64 {
        guard let after, after.atNs > before.atNs else { return before.offsetNs }
        let clamped = min(max(t, before.atNs), after.atNs)
        let fraction = Double(clamped - before.atNs) / Double(after.atNs - before.atNs)
        return before.offsetNs + Int64((Double(after.offsetNs - before.offsetNs) * fraction).rounded())
    }

    /// Agent time to coordinator time.
    package func toCoordinator(_ agentNs: Int64) -> Int64 {
        // The offset barely moves over a run, so the offset at the agent time read as coordinator time is exact enough.
        agentNs - offset(atCoordinator: agentNs - before.offsetNs)
    }
}
