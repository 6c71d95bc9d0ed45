import Shared
import Synchronization

/// One authenticated coordinator session: runs ``AgentRunMachine`` and carries out its actions
/// against the engines. Messages come from the connection's inbound loop, engine events from
/// engine threads; everything for the coordinator goes through `outbox`.
final class AgentSession: Sendable {
    private struct Current: Sendable {
        var machine = AgentRunMachine()
        var engine: (any Engine)?
        var generation = 0
        var runID: String?
        var stepID: String?
        var timing: StepTiming?
        var meter: CPUMeter?
        /// The host role under a `kvm` guest: its qemu threads, for the CPU's breakdown.
        var qemu: QemuThreads?
    }

    private let current = Mutex(Current())
    /// Servers this session had the agent start; stopped when the session ends.
    private let servers: SessionServers
    /// Guest agents this session had the agent place (host role); removed when the session ends.
    private let guests: SessionGuests
    /// Data folders this session's workloads keep (fio's file); removed when the session ends.
    private let data: SessionData
    private let outbox: AsyncStream<WireMessage>.Continuation
    private let log: EventLog

    init(outbox: AsyncStream<WireMessage>.Continuation, log: EventLog, config: AgentConfig) {
        self.outbox = outbox
        self.log = log
        servers = SessionServers(mysqlVolumeDefault: config.dataDirectory)
        guests = SessionGuests(launch: config.guestLaunch)
        data = SessionData(stateDirectory: config.stateDirectory, dataDirectory: config.dataDirectory)
        for line in guests.retried {
            log.record("guest.retried", level: "warning", ["guest": line])
        }
    }

    /// A message from the coordinator, `receivedNs` when it came off the connection.
    func received(_ message: WireMessage, receivedNs: Int64) {
        switch message {
        case .clockProbe(let probe):
            // Normally answered by ClockProbeResponder on the event loop; this is the fallback.
            outbox.yield(.clockReply(ClockReply(t0: probe.t0, t1: receivedNs, t2: MonotonicClock.now())))
        case .heartbeat:
            break
        case .fetchLog(let fetch):
            let batch = log.records(from: fetch.from)
            outbox.yield(.logBatch(LogBatch(records: batch.records, next: batch.next, complete: batch.complete)))
        case .place(let place):
            record("guest.place", ["mode": place.mode.rawValue, "check": String(place.checkOnly)], at: receivedNs)
            // Placing runs commands and waits for the guest: off the control plane's threads.
            _ = EngineThread(name: "place") { [self] in
                do {
                    let placed = try guests.place(place)
                    if !place.checkOnly {
                        record(
                            "guest.placed", ["mode": place.mode.rawValue, "address": placed.setup?.guestAddress ?? "-"])
                    }
                    outbox.yield(.placed(placed))
                } catch {
                    let wire = error as? WireError ?? WireError(.modeFailed, "\(error)")
                    record("guest.failed", level: "error", ["mode": place.mode.rawValue, "error": wire.message])
                    outbox.yield(.failure(WireFailure(wire)))
                }
            }
        case .release:
            _ = EngineThread(name: "release") { [self] in
                let removed = guests.removeAll()
                for line in removed { record("guest.removed", ["guest": line, "reason": "released"]) }
                outbox.yield(.released(Released(removed: removed)))
            }
        case .prepare(let prepare):
            current.withLock {
                $0.runID = prepare.step.runID
                $0.stepID = prepare.step.stepID
                $0.timing = prepare.step.timing
                $0.qemu = prepare.step.role == .host ? guests.qemuThreads(prepare.step.placement.mode) : nil
            }
            record("step.prepare", ["role": prepare.step.role.rawValue], at: receivedNs)
            drive { $0.received(message) }
        case .start(let start):
            record("step.start.received", ["at_ns": String(start.atNs)], at: receivedNs)
            drive { $0.received(message) }
        case .stop:
            record("step.stop.received", at: receivedNs)
            drive { $0.received(message) }
        case .abort(let abort):
            record("step.abort", level: "warning", ["reason": abort.reason], at: receivedNs)
            drive { $0.received(message) }
        default:
            drive { $0.received(message) }
        }
    }

    /// Stops whatever runs; for a lost coordinator, a lease expiry or shutdown.
    func abandon(reason: String) {
        let engine = current.withLock { state -> (any Engine)? in
            guard state.machine.hasEngine else { return nil }
            _ = state.machine.received(.abort(Abort(reason: reason)))
            defer { state.engine = nil }
            return state.engine
        }
        current.withLock { $0.meter }?.stopWithoutResult()
        if let engine {
            record("step.abandoned", level: "warning", ["reason": reason])
            engine.requestStop()
        }
        for stopped in servers.stopAll() {
            record("server.stopped", ["server": stopped, "reason": reason])
        }
        for removed in guests.end() {
            record("guest.removed", ["guest": removed, "reason": reason])
        }
        for removed in data.removeAll() {
            record("data.removed", ["folder": removed, "reason": reason])
        }
    }

    /// Asks the machine and carries out its answer.
    private func drive(_ event: (inout AgentRunMachine) -> AgentRunMachine.Action) {
        let (action, engine, generation) = current.withLock { state in
            (event(&state.machine), state.engine, state.generation)
        }
        perform(action, engine: engine, generation: generation)
    }

    private func perform(_ action: AgentRunMachine.Action, engine: (any Engine)?, generation: Int) {
        switch action {
        case .none:
            break
        case .send(let message):
            if case .failure(let failure) = message {
                record("step.failed", level: "error", ["code": failure.code.rawValue, "message": failure.message])
            }
            outbox.yield(message)
        case .prepareEngine(let spec):
            let next = current.withLock { state -> Int in
                state.generation += 1
                return state.generation
            }
            // Preparing may block (connects, binds): keep it off the control plane's threads.
            _ = EngineThread(name: "prepare") { [self] in prepare(spec, generation: next) }
        case .startEngine(let atNs):
            // Every step meters this host's CPU over exactly its measurement window.
            current.withLock { state in
                guard let timing = state.timing else { return }
                let windowStart = atNs + timing.warmupNs
                state.meter = CPUMeter(
                    startNs: windowStart, endNs: windowStart + timing.durationNs, qemu: state.qemu)
            }
            engine?.start(atNs: atNs)
        case .stopEngine:
            engine?.requestStop()
        case .abortEngine:
            current.withLock { $0.engine = nil }
            engine?.requestStop()
        case .failAndAbort(let failure):
            current.withLock { $0.engine = nil }
            engine?.requestStop()
            record("step.failed", level: "error", ["code": failure.code.rawValue, "message": failure.message])
            outbox.yield(.failure(failure))
        }
    }

    private func prepare(_ spec: StepSpec, generation: Int) {
        let sink: EngineEventSink = { [weak self] event in self?.engineEvent(event, generation: generation) }
        do {
            let engine = try EngineFactory.make(spec, servers: servers, guests: guests, data: data, events: sink)
            let stale = current.withLock { state -> Bool in
                guard state.generation == generation else { return true }
                state.engine = engine
                return false
            }
            if stale {
                engine.requestStop()
                return
            }
            record("step.ready", ["endpoint": engine.endpoint?.description ?? "-"])
            drive { $0.engineReady(engine.endpoint) }
        } catch let error as WireError {
            drive { $0.prepareFailed(error) }
        } catch {
            drive { $0.prepareFailed(WireError(.badStep, "\(error)")) }
        }
    }

    private func engineEvent(_ event: EngineEvent, generation: Int) {
        guard current.withLock({ $0.generation == generation }) else { return }
        switch event {
        case .started(let t):
            record("step.started", at: t)
            drive { $0.engineStarted(t) }
        case .sample(let sample):
            outbox.yield(.sample(sample))
        case .finished(var result):
            let meter = current.withLock { state -> CPUMeter? in
                state.engine = nil
                defer { state.meter = nil }
                return state.meter
            }
            result.cpu = meter?.finish()
            result.provenanceDigest = Provenance.digest()
            record(
                "step.finished", ["transactions": result.completions.map(String.init) ?? "-"], at: result.stoppedNs)
            drive { $0.engineFinished(result) }
        case .failed(let error):
            drive { $0.engineFailed(error) }
        }
    }

    private func record(
        _ event: String, level: String = "info", _ fields: [String: String] = [:],
        at t: Int64 = MonotonicClock.now()
    ) {
        let (run, step) = current.withLock { ($0.runID, $0.stepID) }
        log.record(event, level: level, run: run, step: step, fields, at: t)
    }
}
