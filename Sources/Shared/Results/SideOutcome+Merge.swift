/// Several peers' results of one step as one: counts add, latency histograms merge exactly (the
/// same buckets), thread counts and CPU add. Rates are computed from the merged counts.
extension SideOutcome {
    /// The merged result of the same kind of outcome from every peer; `nil` for none or mixed kinds.
    package static func merged(_ outcomes: [SideOutcome]) -> SideOutcome? {
        guard let first = outcomes.first else { return nil }
        guard outcomes.count > 1 else { return first }
        switch first {
        case .rrClient:
            let all = outcomes.compactMap { if case .rrClient(let r) = $0 { r } else { nil } }
            guard all.count == outcomes.count else { return nil }
            return .rrClient(
                RRClientResult(
                    transactions: all.map(\.transactions).reduce(0, +), lost: all.map(\.lost).reduce(0, +),
                    latency: .merged(all.map(\.latency)), load: .merged(all.map(\.load))))
        case .streamSender:
            let all = outcomes.compactMap { if case .streamSender(let r) = $0 { r } else { nil } }
            guard all.count == outcomes.count else { return nil }
            return .streamSender(
                StreamSenderResult(
                    retransmits: all.map(\.retransmits).reduce(0, +), bytes: all.map(\.bytes).reduce(0, +),
                    load: .merged(all.map(\.load))))
        case .streamReceiver:
            let all = outcomes.compactMap { if case .streamReceiver(let r) = $0 { r } else { nil } }
            guard all.count == outcomes.count else { return nil }
            return .streamReceiver(
                StreamReceiverResult(bytes: all.map(\.bytes).reduce(0, +), load: .merged(all.map(\.load))))
        case .redisClient:
            let all = outcomes.compactMap { if case .redisClient(let r) = $0 { r } else { nil } }
            guard all.count == outcomes.count else { return nil }
            func sum(_ key: KeyPath<RedisClientResult, UInt64>) -> UInt64 { all.map { $0[keyPath: key] }.reduce(0, +) }
            return .redisClient(
                RedisClientResult(
                    operations: sum(\.operations), latency: .merged(all.map(\.latency)), gets: sum(\.gets),
                    sets: sum(\.sets), hits: sum(\.hits), misses: sum(\.misses), errors: sum(\.errors),
                    valueMismatches: sum(\.valueMismatches), keys: sum(\.keys), load: .merged(all.map(\.load))))
        case .mysqlClient:
            let all = outcomes.compactMap { if case .mysqlClient(let r) = $0 { r } else { nil } }
            guard all.count == outcomes.count else { return nil }
            func sum(_ key: KeyPath<MySQLClientResult, UInt64>) -> UInt64 { all.map { $0[keyPath: key] }.reduce(0, +) }
            return .mysqlClient(
                MySQLClientResult(
                    transactions: sum(\.transactions), latency: .merged(all.map(\.latency)), queries: sum(\.queries),
                    rowsRead: sum(\.rowsRead), errors: sum(\.errors), deadlocks: sum(\.deadlocks),
                    reconnects: sum(\.reconnects), load: .merged(all.map(\.load))))
        case .rrServer, .redisServer, .mysqlServer, .hostMeter:
            return nil
        }
    }
}

extension HistogramSnapshot {
    /// The histograms of several flows or hosts as one (exact: the buckets are the same).
    package static func merged(_ snapshots: [HistogramSnapshot]) -> HistogramSnapshot {
        var histogram = makeLatencyHistogram()
        for snapshot in snapshots {
            for (value, count) in zip(snapshot.values, snapshot.counts) { histogram.record(value, count: count) }
        }
        return HistogramSnapshot(histogram)
    }
}

extension LoadThreads {
    /// Several generators' threads as one: counts and CPU add.
    package static func merged(_ loads: [LoadThreads]) -> LoadThreads {
        LoadThreads(threads: loads.map(\.threads).reduce(0, +), cpuSeconds: loads.map(\.cpuSeconds).reduce(0, +))
    }
}
