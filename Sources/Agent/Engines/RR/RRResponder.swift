import Shared
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The SUT side of TCP_RR / UDP_RR: answers every request of `requestSize` bytes with
/// `responseSize` bytes. TCP: one thread per accepted connection; UDP: one socket, `flows` threads.
/// Listens from prepare on, so the peer can connect before the start.
final class RRResponder: Engine, @unchecked Sendable {
    let endpoint: Endpoint?
    private let spec: RRSpec
    private let listener: Int32
    private let events: EngineEventSink
    private let stop = StopFlag()
    private let served = ProgressCounter()
    private let connections = Mutex<[Int32]>([])
    private let threads = Mutex<[EngineThread]>([])
    private let startedNs = Atomic<Int64>(0)
    /// CPUs the serving threads are pinned to.
    private let cpus: [Int]?
    /// How often blocked threads look at the stop flag.
    private static let pollNs: Int64 = 200_000_000

    /// Binds the responder on the placement's bind address, any free port.
    init(_ spec: RRSpec, step: StepSpec, events: @escaping EngineEventSink) throws {
        cpus = step.placement.cpus(for: step.role)
        try EngineThread.checkPinning(cpus)
        self.spec = spec
        self.events = events
        let host = step.placement.bindHost
        let type = spec.proto == .tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)
        listener = try Socket.bound(host: host, port: step.placement.dataPort ?? 0, type: type)
        endpoint = Endpoint(host: host, port: Socket.localPort(listener))
        Socket.setReceiveTimeout(listener, ns: Self.pollNs)
        if spec.proto == .tcp {
            spawn("rr-accept") { [self] in acceptLoop() }
        } else {
            for index in 0..<min(spec.flows, 8) {
                spawn("rr-udp-\(index)") { [self] in serveUDP() }
            }
        }
    }

    func start(atNs: Int64) {
        _ = EngineThread(name: "rr-start") { [self] in
            let actual = MonotonicClock.sleepThenSpin(until: atNs)
            startedNs.store(actual, ordering: .relaxed)
            events(.started(actual))
        }
    }

    func requestStop() {
        guard !stop.isRaised else { return }
        stop.raise()
        _ = EngineThread(name: "rr-stop") { [self] in
            let stoppedNs = MonotonicClock.now()
            connections.withLock { $0.forEach { fd in _ = shutdown(fd, Int32(SHUT_RDWR)) } }
            threads.withLock { $0 }.forEach { $0.join() }
            connections.withLock { $0.forEach { fd in _ = close(fd) } }
            close(listener)
            let started = startedNs.load(ordering: .relaxed)
            events(
                .finished(
                    SideResult(
                        startedNs: started, stoppedNs: stoppedNs, windowStartNs: started, windowEndNs: stoppedNs,
                        outcome: SideOutcome(RRServerResult(served: served.current)))))
        }
    }

    private func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = EngineThread(name: name, cpus: cpus, body)
        threads.withLock { $0.append(thread) }
    }

    private func acceptLoop() {
        while !stop.isRaised {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            // No receive timeout on the data path (a kernel timer per transaction): requestStop
            // shuts the connections down, which ends their blocked reads.
            connections.withLock { $0.append(fd) }
            spawn("rr-serve") { [self] in serveTCP(fd) }
        }
    }

    private func serveTCP(_ fd: Int32) {
        let request = UnsafeMutableRawPointer.allocate(byteCount: spec.requestSize, alignment: 8)
        let response = UnsafeMutableRawPointer.allocate(byteCount: spec.responseSize, alignment: 8)
        defer {
            request.deallocate()
            response.deallocate()
        }
        response.initializeMemory(as: UInt8.self, repeating: 0x62, count: spec.responseSize)
        let stamps = spec.carriesStamps
        while !stop.isRaised {
            var result = Socket.receiveAll(fd, request, count: spec.requestSize)
            while case .timedOut(let progress) = result, !stop.isRaised {
                result = Socket.receiveAll(fd, request, count: spec.requestSize, offset: progress)
            }
            guard case .done = result else { return }
            if stamps { Self.stamp(response, at: 0, receivedNs: MonotonicClock.now()) }
            guard case .done = Socket.sendAll(fd, response, count: spec.responseSize) else { return }
            served.increment()
        }
    }

    /// Writes the SUT's receive stamp and, last thing before the send, its send stamp into the
    /// response (``RRSpec/carriesStamps``): the peer splits the round trip with them.
    @inline(__always)
    private static func stamp(_ response: UnsafeMutableRawPointer, at offset: Int, receivedNs: Int64) {
        response.storeBytes(of: receivedNs, toByteOffset: offset, as: Int64.self)
        response.storeBytes(of: MonotonicClock.now(), toByteOffset: offset + 8, as: Int64.self)
    }

    private func serveUDP() {
        let capacity = max(spec.requestSize, 8)
        let request = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        let response = UnsafeMutableRawPointer.allocate(byteCount: spec.responseSize, alignment: 8)
        defer {
            request.deallocate()
            response.deallocate()
        }
        response.initializeMemory(as: UInt8.self, repeating: 0x62, count: spec.responseSize)
        let tag = min(8, spec.responseSize)
        let stamps = spec.carriesStamps
        var from = sockaddr_storage()
        while !stop.isRaised {
            var fromLen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(listener, request, capacity, 0, $0, &fromLen)
                }
            }
            guard n > 0 else { continue }
            let receivedNs = MonotonicClock.now()
            // Echo the request's sequence tag so the client can tell a late answer from the current one.
            response.copyMemory(from: request, byteCount: min(tag, n))
            if stamps { Self.stamp(response, at: spec.stampOffset, receivedNs: receivedNs) }
            _ = withUnsafePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(listener, response, spec.responseSize, 0, $0, fromLen)
                }
            }
            served.increment()
        }
    }
}
