import Synchronization

/// Every workload this process knows, keyed by its stable name (as swift-nio-ssh keys its
/// algorithms by name). The built-in workloads are registered from the start; others (a test's,
/// a later module's) with ``register(_:)``, before a step of theirs is decoded or run.
package enum WorkloadRegistry {
    /// The built-in workloads, in the order tables and reports list them.
    package static let builtIn: [any WorkloadType.Type] = [
        RRWorkload.self, StreamWorkload.self, RedisWorkload.self, MySQLWorkload.self, FioWorkload.self,
        HpccWorkload.self, CompressWorkload.self,
    ]

    /// Results that are the envelope's, not a workload's: the host agent's meter.
    private static let envelopeResults: [any WorkloadResult.Type] = [HostMeterResult.self]

    private struct Entries: Sendable {
        var order: [any WorkloadType.Type] = []
        var byName: [String: any WorkloadType.Type] = [:]
        var results: [String: any WorkloadResult.Type] = [:]

        mutating func add(_ type: any WorkloadType.Type) {
            precondition(type.name == type.specKind, "workload \(type.name) names its spec \(type.specKind)")
            if byName[type.name] == nil { order.append(type) }
            byName[type.name] = type
            for result in type.resultTypes { results[result.resultKind] = result }
        }
    }

    private static let entries: Mutex<Entries> = {
        var e = Entries()
        for type in builtIn { e.add(type) }
        for result in envelopeResults { e.results[result.resultKind] = result }
        return Mutex(e)
    }()

    /// Adds a workload (or replaces the one of the same name).
    package static func register(_ type: any WorkloadType.Type) { entries.withLock { $0.add(type) } }

    /// The workload of that name.
    package static func type(named name: String) -> (any WorkloadType.Type)? { entries.withLock { $0.byName[name] } }

    /// Every registered workload, built-in ones first, then in registration order.
    package static var all: [any WorkloadType.Type] { entries.withLock { $0.order } }

    /// The result type of that wire name.
    package static func resultType(named kind: String) -> (any WorkloadResult.Type)? {
        entries.withLock { $0.results[kind] }
    }
}

extension WorkloadType {
    /// `Spec.kind`, reachable from an existential metatype.
    package static var specKind: String { Spec.kind }
}
