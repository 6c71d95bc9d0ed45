import Shared

/// `kvm`: the SUT's server side in a qemu guest. Plans and the command line can name the mode, but
/// this agent does not boot guests yet, so its prerequisite check says so and nothing is placed.
enum KVMGuest: ModeLauncher {
    static let mode = DeploymentMode.kvm

    static func problems(_ place: Place, launch: GuestLaunch) -> [String] {
        ["kvm: this agent (\(LockstepVersion.current)) cannot boot a qemu guest yet; leave kvm out of the modes"]
    }

    static func place(
        _ place: Place, launch: GuestLaunch, journal: PlacementJournal, record: inout GuestRecord,
        setup: inout ModeSetup
    ) throws -> PlacedGuest {
        throw WireError(.modePrerequisites, problems(place, launch: launch).joined(separator: "; "))
    }
}
