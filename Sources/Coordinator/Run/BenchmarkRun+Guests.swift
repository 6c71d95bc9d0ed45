import Foundation
import Shared

/// The deployment modes' part of a run: the prerequisite check before the first step, placing a
/// mode's guest agent at its first step, and releasing every guest before the session ends.
extension BenchmarkRun {
    /// The dry run's check: connects to the agents and asks the SUT's host whether every mode of the
    /// plan can run there; one line per missing piece. Starts nothing.
    func prerequisites() async throws -> [String] {
        let session = LabSession(
            token: plan.token, log: RunLog(runID: "dry-run"), heartbeatTimeoutNs: plan.heartbeatTimeoutNs)
        do {
            try await session.connect(plan.agents.map { ($0.role, $0.address) })
            let problems = try await modeProblems(on: session.agents(.sut)[0], session: session)
            await session.close()
            return problems
        } catch {
            await session.close()
            throw error
        }
    }

    /// Has the SUT's agent remove the guests it placed before the session ends, so the host is as it
    /// was when the command returns; best effort (the host agent removes them anyway when its session ends).
    func releaseGuests(_ session: LabSession, log: RunLog) async {
        guard let host = session.agents(.sut).first, session.agents(.sut).count > 1,
            session.mailbox.isAlive(host.link.index)
        else { return }
        for guest in session.agents(.sut).dropFirst() where session.mailbox.isAlive(guest.link.index) {
            guest.link.send(.bye(Bye()))
        }
        host.link.send(.release(Release()))
        do {
            let (message, _) = try await session.mailbox.next(
                from: host.link.index, deadlineNs: MonotonicClock.now() + 60_000_000_000, onlyThis: true)
            if case .released(let released) = message {
                log.record("guests.released", ["removed": released.removed.joined(separator: "; ")])
            }
        } catch {
            log.record("guests.release.failed", level: "warning", ["error": "\(error)"])
        }
    }

    /// Asks the SUT's agent whether every mode of the plan can run there; one line per missing piece.
    func checkPrerequisites(on host: ConnectedAgent, session: LabSession) async throws {
        let problems = try await modeProblems(on: host, session: session)
        let modes = plannedModes
        guard problems.isEmpty else {
            for problem in problems { progress("missing on \(host.name): \(problem)") }
            throw PlacementError(
                .prerequisites,
                "\(host.name) cannot run \(modes.map(\.rawValue).joined(separator: ", ")): "
                    + problems.joined(separator: "; "))
        }
    }

    /// The plan's modes to check, in first-use order: those with a guest, and native where a step
    /// keeps data on the SUT's storage.
    private var plannedModes: [DeploymentMode] {
        var modes: [DeploymentMode] = []
        for step in plan.steps where !modes.contains(step.placement.mode) {
            if step.placement.mode.hasGuest || step.workload.shape.usesStorage { modes.append(step.placement.mode) }
        }
        return modes
    }

    /// What the plan's steps keep on the SUT's storage: the largest file, and whether any opens it with O_DIRECT.
    private var storageNeed: StorageNeed? {
        let needs = plan.steps.compactMap { $0.workload.type.storageNeed($0.workload.spec) }
        guard let largest = needs.map(\.bytes).max() else { return nil }
        return StorageNeed(bytes: largest, directIO: needs.contains { $0.directIO })
    }

    /// What the SUT's host lacks for the plan's modes, one line each, prefixed by the mode.
    private func modeProblems(on host: ConnectedAgent, session: LabSession) async throws -> [String] {
        var problems: [String] = []
        for mode in plannedModes {
            host.link.send(.place(place(mode, checkOnly: true)))
            problems += try await placed(by: host, session: session, within: 30_000_000_000).problems
        }
        return problems
    }

    /// The run-wide placement request for `mode`.
    private func place(_ mode: DeploymentMode, checkOnly: Bool = false, cpus: [Int]? = nil) -> Place {
        var place = Place(
            mode: mode, checkOnly: checkOnly, cpus: cpus, image: plan.image, storage: plan.storage,
            storageDir: plan.storageDir, portBase: plan.guestPortBase, vm: plan.vm)
        place.containerCPUs = plan.containerCPUs
        place.storageBytes = storageNeed?.bytes
        place.directIO = storageNeed?.directIO ?? false
        return place
    }

    /// Has the SUT's agent place a guest agent for `mode`, connects it in the `sut` role, syncs its
    /// clock, records the mode's setup and returns it.
    func placeGuest(_ key: GuestKey, for step: PlannedStep, _ session: LabSession, _ state: inout RunState)
        async throws -> (agent: ConnectedAgent, placed: Placed)
    {
        let mode = key.mode
        let host = session.agents(.sut)[0]
        var request = place(mode, cpus: step.placement.sutCPUs)
        request.storage = key.storage
        if let model = key.vmCPUModel { request.vm.cpuModel = model }
        if let topology = key.vmTopology {
            request.vm.topology = topology
            request.vm.cpus = topology.cpus
        }
        host.link.send(.place(request))
        // The longest placement: a kvm guest that fails under KVM (20 s), boots under TCG (up to
        // 180 s) and whose agent then starts listening (up to 60 s).
        let placed: Placed
        do {
            placed = try await self.placed(by: host, session: session, within: 300_000_000_000)
        } catch let error as WireError {
            // Given up (another agent went away while a guest booted): the answer may still come,
            // and must not be taken for the answer to the next placement or fail the next step.
            session.mailbox.dropLate(.placed, from: host.link.index)
            throw error
        }
        guard let ports = placed.guestPorts else {
            throw PlacementError(.failed, "agent \(host.name) placed a \(mode.rawValue) guest without ports")
        }
        let address = Endpoint(
            host: placed.guestHost ?? host.link.address.host, port: placed.hostPort(for: ports.control))
        try await session.connect([(.sut, address)])
        if placed.guestHost == nil {
            session.publishProbe(ofLink: session.agents[session.agents.count - 1].link.index, placed.hostPort(for:))
        }
        let guest = session.agents[session.agents.count - 1]
        let estimate = try await sync(guest, session, &state)
        // run.json: one entry per mode, and per storage or CPU settings where a mode ran with more than one.
        let name = key.name(among: state.guests.keys)
        state.info.modes = (state.info.modes ?? [:]).merging([name: placed.setup ?? ModeSetup()]) { $1 }
        progress(
            "placed \(mode.rawValue) guest agent '\(guest.name)' at \(guest.link.address) "
                + "(clock offset \(Self.ms(estimate.offsetNs)) ± \(Self.ms(estimate.errorNs)))")
        for warning in placed.setup?.warnings ?? [] { progress("warning: \(warning)") }
        return (guest, placed)
    }

    /// The next message from `host`, which must be ``Placed``.
    private func placed(by host: ConnectedAgent, session: LabSession, within ns: Int64) async throws -> Placed {
        let (message, _) = try await session.mailbox.next(from: host.link.index, deadlineNs: MonotonicClock.now() + ns)
        guard case .placed(let placed) = message else {
            throw PlacementError(.failed, "agent \(host.name) answered a placement with \(message.kind)")
        }
        return placed
    }
}
