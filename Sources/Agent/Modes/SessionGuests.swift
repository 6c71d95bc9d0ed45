import Foundation
import Shared
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The guest agents one coordinator session has the host agent place: one per mode, kept across
/// the session's steps, all removed (guest stopped, every link, table, namespace and container
/// deleted, `ip_forward` put back) when the session ends for any reason.
final class SessionGuests: Sendable {
    private struct Guest: Sendable {
        var record: GuestRecord
        var placed: Placed
        var process: ServerProcess?
        var qemu: QemuThreads?
        /// Released (closed) when the guest is dropped.
        var reserved: PortReservation?
    }

    /// A session's guests: one per mode, (for the container modes) storage placement and (for kvm)
    /// the guest's CPU model, topology and vCPUs.
    private struct Key: Hashable, Sendable {
        var mode: DeploymentMode
        var storage: ContainerStorage
        var vmCPU: [String] = []

        init(_ place: Place) {
            mode = place.mode
            storage = place.storage
            if mode == .kvm {
                vmCPU = [place.vm.cpuModel.rawValue, place.vm.topology?.description ?? "-", String(place.vm.cpus)]
            }
        }
    }

    private let guests = Mutex<[Key: Guest]>([:])
    /// Set when the session ended (``end()``): a placement that comes after is refused, so a
    /// `place` still in flight when the lease ran out cannot leave a guest nobody removes.
    private let closed = Mutex(false)
    private let launch: GuestLaunch
    private let journal: PlacementJournal

    /// What earlier sessions' teardowns could not remove, tried again as this session starts (a
    /// line each).
    let retried: [String]

    init(launch: GuestLaunch) {
        self.launch = launch
        journal = PlacementJournal(directory: launch.stateDirectory)
        retried = journal.retryLeftBehind()
    }

    /// Answers a ``Place``: the mode's prerequisites for a check, else the session's guest for the
    /// mode (placed now if it is not there yet). Throws a `mode-prerequisites` or `mode-failed` error.
    func place(_ place: Place) throws -> Placed {
        let storage = StorageCheck.problems(place, stateDirectory: launch.stateDirectory)
        guard let launcher = ModeLaunchers.launcher(place.mode) else {
            // native places no guest: only its storage can be checked.
            if place.checkOnly { return Placed(mode: place.mode, problems: storage) }
            throw WireError(.badStep, "mode native places no guest")
        }
        let problems = launcher.problems(place, launch: launch) + storage
        if place.checkOnly { return Placed(mode: place.mode, problems: problems) }
        guard problems.isEmpty else {
            throw WireError(.modePrerequisites, problems.joined(separator: "; "))
        }
        let key = Key(place)
        return try guests.withLock { current in
            if closed.withLock({ $0 }) {
                throw WireError(.modeFailed, "placing a \(place.mode.rawValue) guest: the session ended")
            }
            if let running = current[key], running.process?.exitDescription() == nil {
                return running.placed
            }
            if let stale = current.removeValue(forKey: key) { journal.remove(stale.record) }
            var record = GuestRecord(
                id: GuestRecord.newID(), mode: place.mode, ownerPID: getpid(),
                ownerStart: GuestRecord.startTime(getpid()))
            var setup = ModeSetup()
            do {
                let guest = try launcher.place(place, launch: launch, journal: journal, record: &record, setup: &setup)
                try waitForGuest(guest, record: record)
                current[key] = Guest(
                    record: record, placed: guest.placed, process: guest.process, qemu: guest.qemu,
                    reserved: guest.reserved)
                return guest.placed
            } catch {
                let trouble = journal.remove(record)
                let wire = error as? WireError ?? WireError(.modeFailed, "\(error)")
                throw WireError(
                    wire.code,
                    "placing a \(place.mode.rawValue) guest: \(wire.message)"
                        + (trouble.isEmpty ? "" : " (cleanup: \(trouble.joined(separator: "; ")))"))
            }
        }
    }

    /// The DNAT counters of the session's guest in `mode`, where the mode has lockstep's nft table.
    func natPackets(_ mode: DeploymentMode) -> NATPackets? {
        guard let table = guests.withLock({ $0.first { $0.key.mode == mode }?.value.record.nftTable }),
            let listing = try? HostCommand.run("nft", ["list", "table", "ip", table])
        else { return nil }
        return NATPackets(nftListing: listing)
    }

    /// The qemu threads of the session's `kvm` guest, for the host CPU's breakdown.
    func qemuThreads(_ mode: DeploymentMode) -> QemuThreads? {
        guests.withLock { $0.first { $0.key.mode == mode }?.value.qemu }
    }

    /// The session ended: every guest removed and no more placed; a line per guest removed.
    @discardableResult
    func end() -> [String] {
        // Under the guests' lock: a placement in progress finishes first and is removed with the rest.
        guests.withLock { _ in closed.withLock { $0 = true } }
        return removeAll() + journal.retryLeftBehind()
    }

    /// Removes every guest; a line per guest removed.
    @discardableResult
    func removeAll() -> [String] {
        let all = guests.withLock { current in
            defer { current.removeAll() }
            return Array(current.values)
        }
        return all.map { guest in
            guest.process?.stop(graceNs: 2_000_000_000)
            let trouble = journal.remove(guest.record)
            return "\(guest.record.mode.rawValue) guest \(guest.record.id)"
                + (trouble.isEmpty ? "" : " (\(trouble.joined(separator: "; ")))")
        }
    }

    /// Waits until the guest agent accepts connections on its control port (the launcher's time,
    /// 15 s unless it says otherwise), or its process ended.
    private func waitForGuest(_ guest: PlacedGuest, record: GuestRecord) throws {
        let deadline = MonotonicClock.now() + guest.readyTimeoutNs
        while MonotonicClock.now() < deadline {
            if let end = guest.process?.exitDescription() {
                throw WireError(.modeFailed, "the guest agent \(end): \(guest.process?.logTail() ?? "")")
            }
            if let fd = try? Socket.connected(to: guest.controlFromHost, type: Int32(SOCK_STREAM.rawValue)) {
                close(fd)
                return
            }
            usleep(50_000)
        }
        var detail = guest.process?.logTail() ?? ""
        if let container = record.container {
            detail = (try? Docker.run(["logs", "--tail", "3", container], dockerHost: record.dockerHost)) ?? detail
        }
        throw WireError(
            .modeFailed,
            "the guest agent did not listen on \(guest.controlFromHost) within \(guest.readyTimeoutNs / 1_000_000_000) s: \(detail)"
        )
    }
}
