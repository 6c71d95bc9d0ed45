import Synchronization

/// A flag the control plane raises and data-plane threads poll with a relaxed load.
final class StopFlag: Sendable {
    private let raised = Atomic<Bool>(false)

    init() {}

    @inline(__always)
    var isRaised: Bool { raised.load(ordering: .relaxed) }

    func raise() { raised.store(true, ordering: .relaxed) }
}

/// A counter one thread writes and others read, padded by its own allocation.
final class ProgressCounter: Sendable {
    private let value = Atomic<UInt64>(0)

    init() {}

    @inline(__always)
    func publish(_ v: UInt64) { value.store(v, ordering: .relaxed) }

    /// Adds `n`; for counters several threads share.
    @inline(__always)
    func add(_ n: UInt64) { value.wrappingAdd(n, ordering: .relaxed) }

    /// Adds one; for counters several threads share.
    @inline(__always)
    func increment() { value.wrappingAdd(1, ordering: .relaxed) }

    @inline(__always)
    var current: UInt64 { value.load(ordering: .relaxed) }
}
