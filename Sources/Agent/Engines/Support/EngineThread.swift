import CLockstepSys

#if canImport(Glibc)
    import Glibc
#endif

/// A dedicated OS thread for the data plane: no executor hops, no cooperative pool.
final class EngineThread: @unchecked Sendable {
    private var handle = pthread_t()
    private var joined = false

    private final class Box {
        let name: String
        let body: () -> Void
        init(_ name: String, _ body: @escaping () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// Starts `body` on a new thread named `name` (as `top -H` and `ps -L` show it; Linux keeps
    /// the first 15 bytes).
    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(name, body)).toOpaque()
        let rc = pthread_create(
            &handle, nil,
            { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                _ = lockstep_set_thread_name(box.name)
                box.body()
                return nil
            }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    /// The calling thread's CPU time, nanoseconds (CLOCK_THREAD_CPUTIME_ID).
    static func cpuNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Waits for the thread to end. Call once, from one thread.
    func join() {
        guard !joined else { return }
        joined = true
        pthread_join(handle, nil)
    }
}
