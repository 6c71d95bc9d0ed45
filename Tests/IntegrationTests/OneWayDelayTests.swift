import Foundation
import Shared
import Testing

@testable import Agent

#if canImport(Glibc)
    import Glibc
#endif

extension Integration {
    /// The RR engines split each round trip into the request's flight, the SUT's time and the
    /// response's flight. A relay between the flows and the responder holds every request a known
    /// 200 us (this kernel has no netem): the request's flight grows by that, the response's does not,
    /// and the three parts add up to the round trip. (Across two clocks: TimeNamespaceTests.)
    @Suite(.serialized) struct OneWayDelayTests {
        static let heldNs: Int64 = 200_000

        @Test(arguments: [RRProtocol.tcp, .udp])
        func aDelayOnTheRequestPathIsFoundOnThatPath(_ proto: RRProtocol) async throws {
            let spec = RRSpec(proto: proto)
            // Every CPU kept out of its idle states by a SCHED_IDLE spinner (it yields to any other
            // thread at once): otherwise a CPU that waits 200 us longer sleeps deeper and wakes tens
            // of microseconds later, which the held run's request path would carry too.
            let spinners = IdleSpinners()
            defer { spinners.stop() }
            let direct = try await measure(spec, holdNs: 0)
            let held = try await measure(spec, holdNs: Self.heldNs)
            for (name, r) in [("direct", direct), ("held", held)] {
                let total = r.request + r.sut + r.response
                #expect(
                    abs(total - r.roundTrip) <= 0.02 * r.roundTrip,
                    "\(proto) \(name): \(r.request) + \(r.sut) + \(r.response) us vs round trip \(r.roundTrip) us")
                #expect(r.clamped == 0)
            }
            let requestGrew = held.request - direct.request
            let responseGrew = held.response - direct.response
            print(
                "\(proto): request \(direct.request) -> \(held.request) us, response \(direct.response) -> "
                    + "\(held.response) us, SUT \(direct.sut) -> \(held.sut) us")
            // The relay adds the hold to the request path (its own forwarding is in both runs); 10%
            // of it covers the scheduling noise of two cores. A held request can arrive later still,
            // never earlier: the responder's CPU waited 200 us longer and wakes from deeper (the
            // spinners make that smaller, not nothing: 0-60 us seen here). The response's flight
            // barely moves.
            // The lower bound is measured against the response's flight, so that a wake-up both flights
            // shared in one of the runs cancels out (a CI run read the request +178 us with the response
            // -21 us: the direct run's CPUs had slept deeper on both paths).
            let differential = requestGrew - responseGrew
            #expect(
                differential >= 180,
                "\(proto): the request's flight grew by \(requestGrew) us, the response's by \(responseGrew) us")
            #expect(
                requestGrew >= 150 && requestGrew <= 280, "\(proto): the request's flight grew by \(requestGrew) us")
            #expect(abs(responseGrew) <= 30, "\(proto): the response's flight moved by \(responseGrew) us")
            #expect(held.sut < 20, "\(proto): the SUT's own time \(held.sut) us")
        }

        struct Split {
            var roundTrip, request, sut, response: Double
            var clamped: UInt64
        }

        /// A 1 s window of one flow through a relay that holds requests `holdNs`; means in microseconds.
        func measure(_ spec: RRSpec, holdNs: Int64) async throws -> Split {
            let responder = try RRResponder(
                spec, step: step(spec, role: .sut, placement: Placement()), events: { _ in })
            let relay = try DelayRelay(proto: spec.proto, to: try #require(responder.endpoint), holdNs: holdNs)
            defer { relay.close() }
            var placement = Placement(target: relay.endpoint)
            placement.sutClockOffsetNs = 0  // one process, one clock
            let result = LockedValue<SideResult?>(nil)
            let client = try RRClient(spec, step: step(spec, role: .peer, placement: placement)) { event in
                if case .finished(let side) = event { result.withLock { $0 = side } }
            }
            let now = MonotonicClock.now()
            responder.start(atNs: now + 50_000_000)
            client.start(atNs: now + 50_000_000)
            let began = Date()
            while result.value == nil && Date().timeIntervalSince(began) < 10 {
                try await Task.sleep(for: .milliseconds(50))
            }
            responder.requestStop()
            let side = try #require(result.value)
            let rr = try #require(side.outcome.as(RRClientResult.self))
            let oneWay = try #require(rr.oneWay, "no one-way delays in the result")
            return Split(
                roundTrip: rr.latency.histogram().mean / 1e3, request: oneWay.request.histogram().mean / 1e3,
                sut: oneWay.sut.histogram().mean / 1e3, response: oneWay.response.histogram().mean / 1e3,
                clamped: oneWay.clamped)
        }

        func step(_ spec: RRSpec, role: Role, placement: Placement) -> StepSpec {
            StepSpec(
                runID: "r", stepID: "owd", role: role,
                timing: StepTiming(warmupNs: 200_000_000, durationNs: 1_000_000_000), placement: placement,
                workload: Workload(spec))
        }
    }
}

/// One SCHED_IDLE thread per CPU spinning until stopped: the CPUs never idle (and never sleep
/// deeply), yet every other thread runs as if they were not there.
final class IdleSpinners: @unchecked Sendable {
    private let stopped = StopFlag()
    private var threads: [Thread] = []

    init() {
        for _ in 0..<ProcessInfo.processInfo.activeProcessorCount {
            let thread = Thread { [stopped] in
                var param = sched_param(sched_priority: 0)
                _ = sched_setscheduler(0, 5, &param)  // SCHED_IDLE
                while !stopped.isRaised {}
            }
            threads.append(thread)
            thread.start()
        }
    }

    func stop() { stopped.raise() }
}

/// A relay on 127.0.0.1 that forwards each request to `to` once it has held it `holdNs` (spinning,
/// for precision) and each response back at once. One client (one connection or one UDP address).
final class DelayRelay: @unchecked Sendable {
    let endpoint: Endpoint
    private let front: Int32
    private var sockets: [Int32] = []
    private var threads: [Thread] = []
    private let lock = NSLock()

    init(proto: RRProtocol, to target: Endpoint, holdNs: Int64) throws {
        let type = proto == .tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)
        front = try Socket.bound(host: "127.0.0.1", port: 0, type: type)
        endpoint = Endpoint(host: "127.0.0.1", port: Socket.localPort(front))
        let back = try Socket.connected(to: target, type: type)
        keep(front)
        keep(back)
        if proto == .tcp {
            run {
                let client = accept(self.front, nil, nil)
                guard client >= 0 else { return }
                self.keep(client)
                var one: Int32 = 1
                setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                self.run { Self.pump(from: back, to: client, holdNs: 0, reply: nil) }
                Self.pump(from: client, to: back, holdNs: holdNs, reply: nil)
            }
        } else {
            let peer = LockedValue<sockaddr_storage?>(nil)
            run { Self.pump(from: self.front, to: back, holdNs: holdNs, reply: peer) }
            run { Self.pump(from: back, to: self.front, holdNs: 0, reply: peer, sendBack: true) }
        }
    }

    /// Reads from `from` and writes to `to`, `holdNs` after each read returned. UDP: `reply` learns
    /// the client's address from the requests, and the responses go back to it (`sendBack`).
    private static func pump(
        from: Int32, to: Int32, holdNs: Int64, reply: LockedValue<sockaddr_storage?>?, sendBack: Bool = false
    ) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = buffer.withUnsafeMutableBytes { b in
                withUnsafeMutablePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(from, b.baseAddress, b.count, 0, $0, &length)
                    }
                }
            }
            guard n > 0 else { return }
            let arrived = MonotonicClock.now()
            if let reply, !sendBack { reply.withLock { $0 = address } }
            while MonotonicClock.now() - arrived < holdNs {}
            let sent = buffer.withUnsafeBytes { b -> Int in
                if sendBack, var client = reply?.value {
                    return withUnsafePointer(to: &client) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(to, b.baseAddress, n, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                }
                return send(to, b.baseAddress, n, Int32(MSG_NOSIGNAL))
            }
            guard sent == n else { return }
        }
    }

    private func keep(_ fd: Int32) { lock.withLock { sockets.append(fd) } }

    private func run(_ body: @escaping @Sendable () -> Void) {
        let thread = Thread { body() }
        lock.withLock { threads.append(thread) }
        thread.start()
    }

    /// Shuts every socket down (ending the threads' reads) and closes them.
    func close() {
        let fds = lock.withLock { sockets }
        for fd in fds { _ = shutdown(fd, Int32(SHUT_RDWR)) }
        usleep(20_000)
        for fd in fds { _ = Glibc.close(fd) }
    }
}
