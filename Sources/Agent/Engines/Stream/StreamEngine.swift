import Shared
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Both ends of a nuttcp-style bulk transfer. The SUT listens on its data address and accepts
/// `streams` connections; the peer connects them at prepare. At the start instant each connection
/// gets a thread that either sends (large reusable buffer, no per-write allocation) or receives and
/// counts the bytes that arrive inside the measurement window.
final class StreamEngine: Engine, @unchecked Sendable {
    let endpoint: Endpoint?
    private let spec: StreamSpec
    private let step: StepSpec
    private let events: EngineEventSink
    private let sends: Bool
    private let listener: Int32?
    private let connections = Mutex<[Int32]>([])
    private let stop = StopFlag()
    private let stopRequested = StopFlag()
    private var acceptThread: EngineThread?

    /// SUT: binds the listener on the placement's bind address. Peer: connects every stream to the target.
    init(_ spec: StreamSpec, step: StepSpec, events: @escaping EngineEventSink) throws {
        try EngineThread.checkPinning(step.placement.cpus(for: step.role))
        self.spec = spec
        self.step = step
        self.events = events
        let isSUT = step.role != .peer
        sends = isSUT == spec.sutSends
        if isSUT {
            let host = step.placement.bindHost
            let fd = try Socket.bound(host: host, port: step.placement.dataPort ?? 0, type: Int32(SOCK_STREAM.rawValue))
            Socket.setReceiveTimeout(fd, ns: 200_000_000)
            listener = fd
            endpoint = Endpoint(host: host, port: Socket.localPort(fd))
            acceptThread = EngineThread(name: "stream-accept") { [self] in acceptLoop(fd) }
        } else {
            guard let target = step.placement.target else {
                throw WireError(.badStep, "stream client without a target")
            }
            listener = nil
            endpoint = nil
            var fds: [Int32] = []
            do {
                for _ in 0..<spec.streams {
                    let fd = try Socket.connected(to: target, type: Int32(SOCK_STREAM.rawValue), noDelay: false)
                    configure(fd)
                    fds.append(fd)
                }
            } catch {
                fds.forEach { _ = close($0) }
                throw error
            }
            connections.withLock { $0 = fds }
        }
    }

    func start(atNs: Int64) {
        _ = EngineThread(name: "stream-start") { [self] in
            // The SUT must hold every stream before it can start; the peer connected them at prepare.
            let deadline = MonotonicClock.now() + 2_000_000_000
            while connections.withLock({ $0.count }) < spec.streams && MonotonicClock.now() < deadline && !stop.isRaised
            {
                usleep(1000)
            }
            let fds = connections.withLock { $0 }
            guard fds.count == spec.streams else {
                events(.failed(WireError(.dataPlane, "only \(fds.count) of \(spec.streams) streams connected")))
                return
            }
            // Workers exist well before the start instant and sleep to it; only the first spins. Threads
            // created at the instant by spinning parents tended to share a CPU (13 instead of 20+ Gbit/s).
            let workers = fds.map { fd in
                StreamWorker(
                    fd: fd, bufferSize: spec.bufferSize, rateBitsPerSecond: spec.rateBitsPerSecond, sends: sends)
            }
            var supervisor = LoadSupervisor(
                name: "stream", stepID: step.stepID, workers: workers, stallTimeoutNs: StreamWorker.stallNs,
                cpus: step.placement.cpus(for: step.role), stop: stop, stopRequested: stopRequested, events: events)
            supervisor.measureStart = { atNs in
                MonotonicClock.sleepThenSpin(until: atNs, spinNs: 0)
                return workers[0].awaitStart()
            }
            supervisor.start(
                atNs: atNs, timing: step.timing,
                result: { [sends] totals in
                    sends
                        ? SideOutcome(
                            StreamSenderResult(
                                retransmits: totals.tally.retransmits, bytes: totals.tally.bytes, load: totals.load))
                        : SideOutcome(StreamReceiverResult(bytes: totals.tally.bytes, load: totals.load))
                },
                cleanup: { [self] in closeAll() })
        }
    }

    func requestStop() {
        stopRequested.raise()
        stop.raise()
        if let listener { shutdown(listener, Int32(SHUT_RDWR)) }
        connections.withLock { $0.forEach { fd in _ = shutdown(fd, Int32(SHUT_RDWR)) } }
        acceptThread?.join()
    }

    /// Closes every stream and the listener, once the workers are done with them.
    private func closeAll() {
        connections.withLock { fds in
            fds.forEach { _ = close($0) }
            fds.removeAll()
        }
        if let listener { close(listener) }
    }

    private func acceptLoop(_ listener: Int32) {
        while !stop.isRaised && connections.withLock({ $0.count }) < spec.streams {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            configure(fd)
            connections.withLock { $0.append(fd) }
        }
    }

    /// Socket buffers (when asked) and timeouts so blocked calls see the stop flag.
    private func configure(_ fd: Int32) {
        if var size = spec.socketBuffer.map(Int32.init) {
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        // No timeouts on the data path (a kernel timer per blocking call): requestStop shuts the
        // sockets down, and the StallWatchdog does so for a stream that stopped moving.
    }
}
