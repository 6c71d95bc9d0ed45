import CLockstepSys
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// A dedicated OS thread for the data plane: no executor hops, no cooperative pool.
final class EngineThread: @unchecked Sendable {
    private var handle = pthread_t()
    private var joined = false

    private final class Box {
        let name: String
        let cpus: [Int32]
        let body: () -> Void
        init(_ name: String, _ cpus: [Int32], _ body: @escaping () -> Void) {
            self.name = name
            self.cpus = cpus
            self.body = body
        }
    }

    /// Starts `body` on a new thread named `name` (as `top -H` and `ps -L` show it; Linux keeps
    /// the first 15 bytes), pinned to `cpus` when given (the placement's `--sut-cpus`/`--peer-cpus`).
    init(name: String, cpus: [Int]? = nil, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(name, (cpus ?? []).map(Int32.init), body)).toOpaque()
        let rc = pthread_create(
            &handle, nil,
            { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                _ = lockstep_set_thread_name(box.name)
                if !box.cpus.isEmpty {
                    // Checked at prepare (EngineThread.pin); a failure here leaves the thread unpinned.
                    _ = box.cpus.withUnsafeBufferPointer { lockstep_pin_thread($0.baseAddress, Int32($0.count)) }
                }
                box.body()
                return nil
            }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    /// A thread nobody will join (`_ = EngineThread(...)`, or its owner gone) is detached, so its
    /// stack and descriptor are freed when it ends: an agent that runs steps all night does not keep
    /// every finished engine's thread.
    deinit {
        if !joined { pthread_detach(handle) }
    }

    /// The calling thread's CPU time, nanoseconds (CLOCK_THREAD_CPUTIME_ID).
    static func cpuNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Checks at prepare that this host can pin threads to `cpus` (they exist and are allowed), so
    /// a step never starts with threads silently unpinned. Throws a ``WireError`` naming the list.
    static func checkPinning(_ cpus: [Int]?) throws {
        guard let cpus, !cpus.isEmpty else { return }
        let allowed = Set(CPUView.allowedCPUs())
        if let missing = cpus.first(where: { !allowed.contains($0) }) {
            throw WireError(
                .badStep,
                "cannot pin to CPU \(missing): this host allows CPUs \(allowed.sorted().map(String.init).joined(separator: ","))"
            )
        }
    }

    /// Waits for the thread to end. Call once, from one thread, while holding the object.
    func join() {
        guard !joined else { return }
        joined = true
        pthread_join(handle, nil)
    }
}
