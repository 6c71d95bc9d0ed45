/// How the peers of a step share its load: the workload's units (RR flows, bulk streams, Redis
/// connections, MySQL threads) are spread as evenly as they go, the first `units % peers` peers
/// taking one more; a peer whose share would be empty takes no part in the step. What else a share
/// carries (a Redis key slice) is the workload type's `share(of:units:part:of:)`.
extension Workload {
    /// One share per peer that takes part, in peer order; `[self]` for one peer.
    package func split(among peers: Int) -> [Workload] {
        guard peers > 1, shape.needsPeers else { return [self] }
        let units = loadUnits
        let n = min(peers, units)
        return (0..<n).map { i in type.shareWorkload(spec, units: units / n + (i < units % n ? 1 : 0), part: i, of: n) }
    }
}

extension WorkloadType {
    fileprivate static func shareWorkload(_ spec: any WorkloadSpec, units: Int, part: Int, of n: Int) -> Workload {
        guard let own = spec as? Spec else { return Workload(spec) }
        return Workload(share(of: own, units: units, part: part, of: n))
    }
}

/// A peer's slice of the Redis key space: local key `j` is key `j * count + index`.
package struct KeyPartition: Codable, Equatable, Sendable {
    package var index: Int
    package var count: Int

    package init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// The key a peer's local key `j` names.
    @inline(__always)
    package func key(_ local: Int) -> Int { local &* count &+ index }
}
