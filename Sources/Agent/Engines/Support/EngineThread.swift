#if canImport(Glibc)
    import Glibc
#endif

/// A dedicated OS thread for the data plane: no executor hops, no cooperative pool.
final class EngineThread: @unchecked Sendable {
    private var handle = pthread_t()
    private var joined = false

    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Starts `body` on a new thread; `name` documents the thread's job at the call site.
    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(
            &handle, nil,
            { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                box.body()
                return nil
            }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    /// Waits for the thread to end. Call once, from one thread.
    func join() {
        guard !joined else { return }
        joined = true
        pthread_join(handle, nil)
    }
}
