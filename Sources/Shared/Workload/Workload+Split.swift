/// How the peers of a step share its load: RR flows, bulk streams, Redis connections and MySQL
/// threads are spread as evenly as they go, the first `units % peers` peers taking one more; a peer
/// whose share would be empty takes no part in the step. A Redis share also gets its own slice of
/// the key space (peer `i` of `n` names keys `i, i+n, i+2n, ...`), of the key cap and of
/// `--threads` when given, so the peers create distinct keys and DBSIZE is their sum.
extension Workload {
    /// What the peers split: flows, streams, connections or threads.
    package var loadUnits: Int {
        switch self {
        case .rr(let s): s.flows
        case .stream(let s): s.streams
        case .redis(let s): s.connections
        case .mysql(let s): s.threads
        }
    }

    /// One share per peer that takes part, in peer order; `[self]` for one peer.
    package func split(among peers: Int) -> [Workload] {
        guard peers > 1 else { return [self] }
        let units = loadUnits
        let n = min(peers, units)
        return (0..<n).map { i in share(units / n + (i < units % n ? 1 : 0), part: i, of: n) }
    }

    private func share(_ units: Int, part: Int, of n: Int) -> Workload {
        switch self {
        case .rr(var s):
            s.flows = units
            return .rr(s)
        case .stream(var s):
            s.streams = units
            return .stream(s)
        case .redis(var s):
            s.connections = units
            // Generator threads given in total are split like the connections (at least one each).
            s.threads = s.threads.map { min(max(1, $0 / n + (part < $0 % n ? 1 : 0)), units) }
            s.keys = s.keys.map { max(1, $0 / n + (part < $0 % n ? 1 : 0)) }
            s.partition = KeyPartition(index: part, count: n)
            return .redis(s)
        case .mysql(var s):
            s.threads = units
            return .mysql(s)
        }
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
