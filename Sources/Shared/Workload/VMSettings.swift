/// Which accelerator a `kvm` guest runs under.
package enum Accelerator: String, Codable, Sendable, CaseIterable {
    /// KVM where /dev/kvm boots the guest, else TCG with a warning line.
    case auto
    /// Hardware virtualization (`-accel kvm`); a guest that does not boot is an error.
    case kvm
    /// qemu's emulator (`-accel tcg`): runs anywhere, measures nothing about KVM.
    case tcg
}

/// The format of a `kvm` guest's disk file.
package enum DiskFormat: String, Codable, Sendable, CaseIterable {
    case raw
    /// qemu's copy-on-write format (the paper's MySQL-in-KVM ran on a qcow2 disk).
    case qcow2
}

/// qemu's host cache mode of a guest's disk (`-drive cache=`).
package enum DiskCache: String, Codable, Sendable, CaseIterable {
    /// O_DIRECT on the host, as the paper ran KVM's disks.
    case none
    case writeback
    case writethrough
}

/// qemu's I/O backend of a guest's disk (`-drive aio=`).
package enum DiskAIO: String, Codable, Sendable, CaseIterable {
    /// Linux AIO (needs cache=none), as the paper ran KVM's disks.
    case native
    case io_uring = "io_uring"
    case threads
}

/// The CPU model a `kvm` guest is shown.
package enum VMCPUModel: String, Codable, Sendable, CaseIterable {
    /// The host's own CPU, every feature passed through (`-cpu host` under KVM; under TCG qemu's
    /// `max`, every feature it emulates): the tuned guest.
    case host
    /// qemu's generic model (`qemu64`): SSE2 and no AVX, what a guest gets when nobody says; a
    /// math library that dispatches on CPUID then runs its slowest kernels (the paper's untuned KVM).
    case `default`

    /// qemu's `-cpu` value under `accel`.
    package func qemuModel(kvm: Bool) -> String {
        switch self {
        case .host: kvm ? "host" : "max"
        case .default: "qemu64"
        }
    }
}

/// A guest's CPU topology, `SOCKETSxCORESxTHREADS` (qemu's `-smp sockets=,cores=,threads=`).
package struct VMTopology: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    package var sockets: Int
    package var cores: Int
    package var threads: Int

    package init(sockets: Int, cores: Int, threads: Int) {
        self.sockets = sockets
        self.cores = cores
        self.threads = threads
    }

    /// `2x8x2`; `nil` when it is not three positive numbers.
    package init?(_ text: String) {
        let parts = text.lowercased().split(separator: "x").map { Int($0) }
        guard parts.count == 3, let s = parts[0], let c = parts[1], let t = parts[2], s > 0, c > 0, t > 0,
            s * c * t <= 1024
        else { return nil }
        self.init(sockets: s, cores: c, threads: t)
    }

    /// vCPUs it holds.
    package var cpus: Int { sockets * cores * threads }

    package var description: String { "\(sockets)x\(cores)x\(threads)" }
}

/// How the host agent boots a `kvm` guest: the image `lockstep-agent vm build` wrote, the guest's
/// size, its accelerator and the knobs the paper says KVM needs (vCPU pinning, hugepages, a virtio
/// disk for MySQL's data), and its network (lockstep's own routed bridge, or the user's bridge with
/// the test-network interface and an address on that network).
package struct VMSettings: Codable, Equatable, Sendable {
    /// The folder with `vmlinux` (or a bzImage), `initramfs.cpio` and `manifest.json`; `nil`: the
    /// host agent's state folder's `vm`.
    package var image: String?
    package var cpus: Int
    package var memoryMiB: Int
    package var accel: Accelerator
    /// The CPU model the guest is shown.
    package var cpuModel: VMCPUModel = .host
    /// The guest's sockets x cores x threads (their product is `cpus`); `nil`: qemu's default (one
    /// socket per vCPU).
    package var topology: VMTopology?
    /// The file or host block device backing the guest's virtio-blk disk (fio's file, MySQL's data); a
    /// device is overwritten (the guest makes its file system), so it must be named explicitly and not
    /// be mounted; `nil`: a sparse file lockstep makes in the storage folder, removed with the guest.
    package var disk: String?
    /// The format of a disk file lockstep makes.
    package var diskFormat: DiskFormat = .raw
    /// The disk's host cache mode; `nil`: `none` where the folder takes O_DIRECT, else `writeback`.
    package var diskCache: DiskCache?
    /// The disk's I/O backend.
    package var diskAIO: DiskAIO = .threads
    /// Size of a disk lockstep creates, GiB.
    package var diskGiB: Int
    /// Back the guest's memory with hugepages (`-mem-path` on hugetlbfs, preallocated).
    package var hugepages: Bool
    /// An existing bridge (holding the SUT's test-network interface) for the guest's tap; `nil`:
    /// a bridge of lockstep's own on a free 198.18.X.0/24, routed by the host.
    package var bridge: String?
    /// The guest's address with its prefix on `bridge`'s network (`198.19.0.10/24`).
    package var address: String?
    /// The guest's default gateway on `bridge`'s network, if it needs one.
    package var gateway: String?

    package init(
        image: String? = nil, cpus: Int = 1, memoryMiB: Int = 2048, accel: Accelerator = .auto, disk: String? = nil,
        diskGiB: Int = 8, hugepages: Bool = false, bridge: String? = nil, address: String? = nil,
        gateway: String? = nil
    ) {
        self.image = image
        self.cpus = cpus
        self.memoryMiB = memoryMiB
        self.accel = accel
        self.disk = disk
        self.diskGiB = diskGiB
        self.hugepages = hugepages
        self.bridge = bridge
        self.address = address
        self.gateway = gateway
    }

    /// One line per problem, empty when valid.
    package func problems() -> [String] {
        var out: [String] = []
        if !(1...256).contains(cpus) { out.append("--vm-cpus must be 1...256, got \(cpus)") }
        if let topology, topology.cpus != cpus {
            out.append("--vm-topology \(topology) holds \(topology.cpus) vCPUs, --vm-cpus is \(cpus)")
        }
        if memoryMiB < 256 { out.append("--vm-memory must be at least 256M, got \(memoryMiB)M") }
        if !(1...4096).contains(diskGiB) { out.append("--vm-disk-size must be 1...4096 GiB, got \(diskGiB)") }
        if (bridge == nil) != (address == nil) { out.append("--vm-bridge and --vm-address go together") }
        if diskAIO == .native && diskCache != DiskCache.none {
            out.append(
                "--vm-disk-aio native needs --vm-disk-cache none (qemu refuses aio=native on the host's page cache)")
        }
        if let address {
            let parts = address.split(separator: "/")
            if parts.count != 2 || Int(parts[1]).map({ !(1...32).contains($0) }) ?? true
                || parts[0].split(separator: ".").count != 4
            {
                out.append("--vm-address must be an IPv4 address with its prefix, e.g. 198.19.0.10/24, got \(address)")
            }
        }
        return out
    }
}
