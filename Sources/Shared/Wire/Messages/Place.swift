/// Where a container guest's data (fio's file, MySQL's tables) lives: the paper found the container's
/// own layered file system costs MySQL 13-24% against a volume.
package enum ContainerStorage: String, Codable, Sendable, CaseIterable {
    /// A folder of the host bind-mounted into the container.
    case volume
    /// The container's own layered file system.
    case layered
}

/// Ask a host agent to place a guest agent in a deployment mode, or with `checkOnly` only to check
/// the mode's prerequisites. The answer is ``Placed`` (or a failure).
package struct Place: Codable, Equatable, Sendable {
    package var mode: DeploymentMode
    /// Check the prerequisites and start nothing.
    package var checkOnly: Bool
    /// CPUs the guest may use (a container's cpuset); the guest's server is pinned by the step's placement.
    package var cpus: [Int]?
    /// The image of the container modes; `nil`: `lockstep-agent:VERSION`.
    package var image: String?
    /// Where a container's data lives.
    package var storage: ContainerStorage
    /// The host folder under which a placement keeps its data (a container's volume, a `kvm` guest's
    /// disk file); `nil`: the host agent's state folder.
    package var storageDir: String?
    /// The largest data file a step of the plan keeps there (fio's `--size`), bytes; for the free-space check.
    package var storageBytes: Int64?
    /// Whether a step of the plan opens its data with O_DIRECT (the folder must take it).
    package var directIO = false
    /// The first of the ports the guest binds inside a namespace or container (control, then one
    /// per data-port slot: RR, bulk, Redis, MySQL); `docker-host` takes free host ports instead.
    package var portBase: Int
    /// How a `kvm` guest is booted.
    package var vm: VMSettings
    /// Container modes: a CPU quota (`docker run --cpus`), in CPUs; `nil`: none.
    package var containerCPUs: Double?

    package init(
        mode: DeploymentMode, checkOnly: Bool = false, cpus: [Int]? = nil, image: String? = nil,
        storage: ContainerStorage = .volume, storageDir: String? = nil, portBase: Int = GuestPorts.defaultBase,
        vm: VMSettings = VMSettings()
    ) {
        self.storageDir = storageDir
        self.mode = mode
        self.checkOnly = checkOnly
        self.cpus = cpus
        self.image = image
        self.storage = storage
        self.portBase = portBase
        self.vm = vm
    }
}

/// The ports a guest agent binds inside its environment: its control port and one data port per
/// slot a workload's shape names (``WorkloadShape/guestPortSlot``: RR 1, bulk 2, Redis 3, MySQL 4).
package struct GuestPorts: Codable, Equatable, Sendable {
    /// The guest agent's control port.
    package var control: Int
    /// The data ports, slot 1 first.
    package var data: [Int]

    package init(control: Int, data: [Int]) {
        self.control = control
        self.data = data
    }

    /// The guest's control port unless `--guest-ports` says otherwise.
    package static let defaultBase = 7470

    /// How many data ports a guest binds: the highest slot any registered workload names.
    package static var slots: Int { WorkloadRegistry.all.compactMap { $0.shape.guestPortSlot }.max() ?? 0 }

    /// Consecutive ports from `base`: control, then each slot's.
    package init(base: Int) {
        self.init(control: base, data: (1...max(Self.slots, 1)).map { base + $0 })
    }

    /// The data port the server of `workload` binds; `nil` when its shape binds none.
    package func port(for workload: Workload) -> Int? {
        guard let slot = workload.shape.guestPortSlot, slot >= 1, slot <= data.count else { return nil }
        return data[slot - 1]
    }

    /// Every port, control first.
    package var all: [Int] { [control] + data }

    /// The ports published for UDP too: the control port (the guest agent's clock probes answer on
    /// its number) and the data ports of workloads whose shape says so.
    package var udp: Set<Int> {
        Set(
            [control]
                + WorkloadRegistry.all.compactMap { type -> Int? in
                    guard type.shape.guestPortUDP, let slot = type.shape.guestPortSlot, slot <= data.count else {
                        return nil
                    }
                    return data[slot - 1]
                })
    }
}

/// One published port: what reaches `hostPort` on the host goes to `guestPort` in the guest.
package struct PortMapping: Codable, Equatable, Sendable {
    package var guestPort: Int
    package var hostPort: Int

    package init(guestPort: Int, hostPort: Int) {
        self.guestPort = guestPort
        self.hostPort = hostPort
    }
}

/// What a mode set up on the host, exactly, for `run.json`.
package struct ModeSetup: Codable, Equatable, Sendable {
    /// The commands the host agent ran, in order.
    package var commands: [String]
    /// The nft ruleset it installed, if any.
    package var rules: String?
    /// The guest's own address (bridge or container network), if it has one.
    package var guestAddress: String?
    /// Container modes: the image and container ids, the cpuset and the CPU quota (`--cpus`).
    package var imageID: String?
    package var containerID: String?
    package var cpuset: String?
    package var cpuQuota: String?
    /// Where the guest's data lives, for run.json (`volume HOSTFOLDER`, `layered`, `disk FILE ...`).
    package var storage: String?
    /// The labels a storage-using step's samples carry for it: `storage` (`volume`, `layered`,
    /// `disk`) and for a `kvm` disk `disk` (`raw,cache=none,aio=native`).
    package var storageLabels: [String: String]?
    /// The host's `net.ipv4.ip_forward` before the mode set it.
    package var ipForwardBefore: String?
    /// `kvm`: the accelerator the guest really ran under (`kvm` or `tcg`), the exact qemu command
    /// line, and the guest's settings as applied (vCPUs and their host threads and pins, memory,
    /// hugepages, disk, vhost-net, kernel and image).
    package var accel: String?
    /// The exact qemu command line.
    package var qemu: String?
    /// The guest's settings as applied.
    package var vm: VMApplied?
    /// Things the user should know about the placement (a fallback to TCG), one line each.
    package var warnings: [String]?

    package init(
        commands: [String] = [], rules: String? = nil, guestAddress: String? = nil, imageID: String? = nil,
        containerID: String? = nil, cpuset: String? = nil, storage: String? = nil, ipForwardBefore: String? = nil
    ) {
        self.commands = commands
        self.rules = rules
        self.guestAddress = guestAddress
        self.imageID = imageID
        self.containerID = containerID
        self.cpuset = cpuset
        self.storage = storage
        self.ipForwardBefore = ipForwardBefore
    }
}

/// A `kvm` guest's settings as the host agent applied them, for `run.json` (`modes.kvm.vm`): each a
/// line for people, as the placement described it.
package struct VMApplied: Codable, Equatable, Sendable {
    /// The image folder and the kernel (file, release, source).
    package var image: String
    /// The kernel file, its release and where it came from.
    package var kernel: String
    /// The guest's vCPUs.
    package var vcpus: String
    /// The guest's memory, MiB.
    package var memory_mib: String
    /// The tap and the bridge it joined.
    package var network: String
    /// The guest's address with its prefix.
    package var guest_address: String
    /// Whether hugepages back the guest's memory.
    package var hugepages: String
    /// The virtio disk's file and cache mode, or why there is none.
    package var disk: String?
    /// Whether vhost-net carried the guest's network, and why not.
    package var vhost_net: String?
    /// The host thread ids of the vCPUs, in vCPU order.
    package var vcpu_threads: String?
    /// The CPU model the guest was shown (`host`, `default`) and qemu's `-cpu` value.
    package var cpu_model: String?
    /// The guest's sockets x cores x threads, or qemu's default.
    package var topology: String?
    /// Each vCPU's host CPU (`vCPU0->1 vCPU1->0`), or that the scheduler places them.
    package var vcpu_pinning: String?

    package init(
        image: String, kernel: String, vcpus: String, memory_mib: String, network: String, guest_address: String,
        hugepages: String
    ) {
        self.image = image
        self.kernel = kernel
        self.vcpus = vcpus
        self.memory_mib = memory_mib
        self.network = network
        self.guest_address = guest_address
        self.hugepages = hugepages
    }
}

/// Ask a host agent to remove every guest it placed for this session now (before the session ends),
/// so that the host is as it was when the coordinator's command returns. The answer is ``Released``.
package struct Release: Codable, Equatable, Sendable {
    package init() {}
}

/// The guests a host agent removed, one line each.
package struct Released: Codable, Equatable, Sendable {
    package var removed: [String]
    package init(removed: [String]) { self.removed = removed }
}

/// The host agent's answer to ``Place``.
package struct Placed: Codable, Equatable, Sendable {
    package var mode: DeploymentMode
    /// Prerequisites that are missing, one line each naming the fix; empty when the mode can run.
    package var problems: [String]
    /// The ports the guest binds (`nil` for a check).
    package var guestPorts: GuestPorts?
    /// Ports published on the host; a guest port without a mapping is reached as it is.
    package var published: [PortMapping]
    /// The address the guest's servers bind inside its environment.
    package var guestBindHost: String?
    /// What was set up.
    package var setup: ModeSetup?
    /// The address the coordinator and the peers reach the guest at, when it has one of its own
    /// on the network (`kvm`, bridged or routed); `nil`: the SUT's address with the published ports.
    package var guestHost: String?
    /// The host pinned the guest to the step's SUT CPUs itself (a `kvm` guest's vCPU threads), so the
    /// guest's servers are not pinned again: inside the guest those CPU numbers mean nothing.
    package var pinnedByHost: Bool = false

    package init(
        mode: DeploymentMode, problems: [String] = [], guestPorts: GuestPorts? = nil, published: [PortMapping] = [],
        guestBindHost: String? = nil, setup: ModeSetup? = nil, guestHost: String? = nil
    ) {
        self.mode = mode
        self.problems = problems
        self.guestPorts = guestPorts
        self.published = published
        self.guestBindHost = guestBindHost
        self.setup = setup
        self.guestHost = guestHost
    }

    /// The host port that reaches `guestPort` (the port itself when it is not published).
    package func hostPort(for guestPort: Int) -> Int {
        published.first { $0.guestPort == guestPort }?.hostPort ?? guestPort
    }
}
