import CLockstepSys
import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// `kvm`: the SUT's server side in a qemu guest the host agent boots from the image `lockstep-agent
/// vm build` wrote (a kernel and an initramfs, no disk image), with virtio-net on a tap device on a
/// bridge and the guest on its own address: lockstep's own bridge on a free 198.18.X.0/24 that this
/// host routes (default), or the user's bridge with the test-network interface (`--vm-bridge`,
/// `--vm-address`). The guest agent is reached at that address by the coordinator and the peers
/// alike; nothing is published or translated. qemu is the host agent's child with a parent-death
/// signal; the tap, lockstep's bridge and the scratch folder (boot archive with the token, console
/// log, QMP socket, disk) are journaled and removed like every mode's resources.
enum KVMGuest: ModeLauncher {
    static let mode = DeploymentMode.kvm
    static let qemu = "qemu-system-x86_64"
    /// How long a KVM boot may take to reach the guest's init before `auto` falls back to TCG.
    static let kvmBootNs: Int64 = 20_000_000_000
    /// How long a TCG boot may take to reach the guest agent's start.
    static let tcgBootNs: Int64 = 180_000_000_000

    static func problems(_ place: Place, launch: GuestLaunch) -> [String] {
        var out = place.vm.problems().map { "kvm: \($0)" }
        if Executable.find(qemu) == nil { out.append("kvm needs \(qemu): apt-get install qemu-system-x86") }
        if !HostCommand.hasNetAdmin {
            out.append("kvm needs root or CAP_NET_ADMIN on the SUT host (tap and bridge): run the agent as root")
        }
        if !FileManager.default.fileExists(atPath: "/dev/net/tun") {
            out.append("kvm needs /dev/net/tun for the guest's tap: modprobe tun")
        }
        if Executable.find("ip") == nil { out.append("kvm needs ip: apt-get install iproute2") }
        let folder = imageFolder(place, launch)
        switch VMImage.load(folder) {
        case .failure(let error): out.append(error.message)
        case .success(let image) where image.lockstepVersion != LockstepVersion.current:
            out.append(
                "the guest image in \(folder) holds lockstep \(image.lockstepVersion), this agent is \(LockstepVersion.current): "
                    + "rebuild it with `lockstep-agent vm build --out \(folder)`")
        default: break
        }
        if place.vm.diskFormat == .qcow2 && place.vm.disk == nil && Executable.find("qemu-img") == nil {
            out.append("--vm-disk-format qcow2 needs qemu-img: apt-get install qemu-utils")
        }
        if let disk = place.vm.disk, disk.hasPrefix("/dev/"), let problem = GuestDisk.deviceProblem(disk) {
            out.append(problem)
        }
        if place.vm.accel == .kvm, let why = kvmUnusable {
            out.append("--accel kvm: \(why); use --accel tcg or auto")
        }
        if place.vm.hugepages, let why = Hugepages.shortfall(memoryMiB: place.vm.memoryMiB) {
            out.append("--vm-hugepages: \(why)")
        }
        if let bridge = place.vm.bridge,
            HostCommand.attempt("ip", ["link", "show", "dev", bridge, "type", "bridge"]) != nil
        {
            out.append("--vm-bridge: no bridge \(bridge) on this host (make one holding the test-network interface)")
        }
        return out
    }

    /// Why /dev/kvm cannot be used by this process, or `nil`.
    static var kvmUnusable: String? {
        guard FileManager.default.fileExists(atPath: "/dev/kvm") else {
            return "/dev/kvm is missing (no hardware virtualization, or the kvm module is not loaded)"
        }
        let fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return "/dev/kvm cannot be opened: \(String(cString: strerror(errno)))" }
        close(fd)
        return nil
    }

    static func imageFolder(_ place: Place, _ launch: GuestLaunch) -> String {
        place.vm.image ?? VMImage.defaultFolder(state: launch.stateDirectory)
    }

    static func place(
        _ place: Place, launch: GuestLaunch, journal: PlacementJournal, record: inout GuestRecord,
        setup: inout ModeSetup
    ) throws -> PlacedGuest {
        let folder = imageFolder(place, launch)
        let image = try VMImage.load(folder).get()
        let vm = place.vm
        let n = GuestRecord.names(record.id)
        let scratch = "\(launch.stateDirectory)/vm-\(record.id)"
        let ports = GuestPorts(base: place.portBase)
        let bridge: String
        let cidr: String
        let gateway: String?
        if let user = vm.bridge, let address = vm.address {
            (bridge, cidr, gateway) = (user, address, vm.gateway)
            record.links = [n.tap]
        } else {
            let octet = try GuestSubnet.freeOctet(for: mode)
            (bridge, cidr, gateway) = (n.bridge, "198.18.\(octet).2/24", "198.18.\(octet).1")
            record.links = [n.tap, n.bridge]
        }
        let address = String(cidr.split(separator: "/")[0])
        record.folders = [scratch]
        journal.write(record)

        try FileManager.default.createDirectory(
            atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if vm.bridge == nil, let gateway {
            _ = try setup.run("ip", ["link", "add", bridge, "type", "bridge"])
            _ = try setup.run("ip", ["addr", "add", "\(gateway)/24", "dev", bridge])
            _ = try setup.run("ip", ["link", "set", bridge, "up"])
        }
        _ = try setup.run("ip", ["tuntap", "add", "dev", n.tap, "mode", "tap"])
        _ = try setup.run("ip", ["link", "set", n.tap, "master", bridge, "up"])
        setup.guestAddress = address

        var settings = VMApplied(
            image: folder, kernel: "\(image.kernel) \(image.kernelRelease) (\(image.kernelSource))",
            vcpus: String(vm.cpus), memory_mib: String(vm.memoryMiB),
            network: vm.bridge == nil
                ? "tap \(n.tap) on lockstep's bridge \(bridge) (\(gateway ?? "")/24, routed by the host)"
                : "tap \(n.tap) on \(bridge), bridged",
            guest_address: cidr, hugepages: vm.hugepages ? "on (/dev/hugepages, preallocated)" : "off")
        let disk = try GuestDisk.prepare(
            vm, storageDir: place.storageDir, scratch: scratch, record: &record, journal: journal, setup: &setup)
        settings.disk = disk?.description ?? "none (no mkfs.ext4 here)"
        if let disk {
            setup.storage = "disk \(disk.description)"
            setup.storageLabels = ["storage": "disk", "disk": disk.label]
        }

        // The boot's own archive after the image's: the kernel unpacks both, so the token and the
        // address never enter the image folder.
        let arguments = launch.serveArguments(
            listen: "\(address):\(ports.control)", tokenPath: "/lockstep/token", mode: mode,
            extra: ["--data-dir", "/data", "--state-dir", "/run/lockstep-state"])
        let initrd = try bootArchive(
            image: folder + "/" + image.initramfs, scratch: scratch, tokenPath: launch.tokenPath,
            env: "LOCKSTEP_ADDRESS=\(cidr)\nLOCKSTEP_GATEWAY=\(gateway ?? "")\n", arguments: arguments)

        var attempts: [Accelerator]
        switch vm.accel {
        case .kvm: attempts = [.kvm]
        case .tcg: attempts = [.tcg]
        case .auto: attempts = kvmUnusable == nil ? [.kvm, .tcg] : [.tcg]
        }
        if vm.accel == .auto, let why = kvmUnusable {
            setup.warnings = (setup.warnings ?? []) + ["kvm: \(why): running the guest under TCG (emulated)"]
        }
        let vhost = FileManager.default.fileExists(atPath: "/dev/vhost-net")
        while let accel = attempts.first {
            attempts.removeFirst()
            let useVhost = vhost && accel == .kvm
            settings.vhost_net =
                useVhost ? "on" : (vhost ? "off (TCG cannot use vhost-net)" : "off (no /dev/vhost-net on this host)")
            let command = qemuArguments(
                vm: vm, accel: accel, record: record, kernel: folder + "/" + image.kernel, initrd: initrd,
                scratch: scratch, tap: n.tap, vhost: useVhost, disk: disk)
            let console = scratch + "/console.log"
            try? FileManager.default.removeItem(atPath: console)
            let process = try ServerProcess.start(qemu, command, cpus: nil, logPath: scratch + "/qemu.log")
            record.guestPID = process.pid
            record.guestStart = GuestRecord.startTime(process.pid)
            journal.write(record)
            let limit = accel == .kvm ? kvmBootNs : tcgBootNs
            if let failure = waitForBoot(process, console: console, withinNs: limit) {
                process.stop(graceNs: 1_000_000_000)
                if !attempts.isEmpty {
                    setup.warnings =
                        (setup.warnings ?? []) + [
                            "kvm: the guest did not boot under KVM (\(failure)): running it under TCG (emulated)"
                        ]
                    continue
                }
                throw WireError(.modeFailed, "the \(accel.rawValue) guest did not boot: \(failure)")
            }
            setup.commands.append(HostCommand.describe(qemu, command))
            setup.qemu = HostCommand.describe(qemu, command)
            setup.accel = accel.rawValue
            let vcpus = try pinVCPUs(scratch: scratch, cpus: place.cpus, setup: &setup)
            settings.vcpu_threads = vcpus.map(String.init).joined(separator: ",")
            settings.cpu_model = "\(vm.cpuModel.rawValue) (-cpu \(vm.cpuModel.qemuModel(kvm: accel == .kvm)))"
            settings.topology = vm.topology.map { "\($0) (sockets x cores x threads)" } ?? "qemu's default"
            settings.vcpu_pinning =
                place.cpus.flatMap { cpus in
                    cpus.isEmpty
                        ? nil
                        : vcpus.indices.map { "vCPU\($0)->\(cpus[$0 % cpus.count])" }.joined(separator: " ")
                } ?? "none (the scheduler places the vCPU threads)"
            setup.vm = settings
            var placed = Placed(mode: mode, guestPorts: ports, guestBindHost: address, setup: setup, guestHost: address)
            placed.pinnedByHost = true
            return PlacedGuest(
                placed: placed,
                process: process, controlFromHost: Endpoint(host: address, port: ports.control),
                readyTimeoutNs: 60_000_000_000, qemu: QemuThreads(pid: process.pid, vcpus: vcpus, vhost: useVhost))
        }
        throw WireError(.modeFailed, "no accelerator left to boot the guest with")
    }

    /// `-smp`: the vCPUs, with their sockets, cores and threads when a topology is given.
    static func smp(_ vm: VMSettings) -> String {
        guard let t = vm.topology else { return String(vm.cpus) }
        return "\(vm.cpus),sockets=\(t.sockets),cores=\(t.cores),threads=\(t.threads)"
    }

    /// qemu's arguments for one boot.
    static func qemuArguments(
        vm: VMSettings, accel: Accelerator, record: GuestRecord, kernel: String, initrd: String, scratch: String,
        tap: String, vhost: Bool, disk: GuestDisk?
    ) -> [String] {
        let mac =
            "52:54:00:"
            + stride(from: 0, to: 6, by: 2).map { i -> String in
                let start = record.id.index(record.id.startIndex, offsetBy: i)
                return String(record.id[start..<record.id.index(start, offsetBy: 2)])
            }.joined(separator: ":")
        var args = ["-name", "lockstep-\(record.id)", "-machine", "q35"]
        args += accel == .kvm ? ["-accel", "kvm"] : ["-accel", "tcg,thread=multi"]
        args += ["-cpu", vm.cpuModel.qemuModel(kvm: accel == .kvm)]
        args += ["-smp", smp(vm), "-m", "\(vm.memoryMiB)M"]
        if vm.hugepages { args += ["-mem-path", "/dev/hugepages", "-mem-prealloc"] }
        args += ["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"]
        args += ["-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0 quiet panic=-1 random.trust_cpu=on"]
        args += ["-serial", "file:\(scratch)/console.log", "-qmp", "unix:\(scratch)/qmp.sock,server=on,wait=off"]
        args += ["-netdev", "tap,id=net0,ifname=\(tap),script=no,downscript=no" + (vhost ? ",vhost=on" : "")]
        args += ["-device", "virtio-net-pci,netdev=net0,mac=\(mac),romfile="]
        if let disk { args += ["-drive", disk.drive] }
        return args
    }

    /// `initramfs` of the image followed by an archive of this boot's token, environment and
    /// agent arguments, written as `initrd` in the scratch folder (mode 0600).
    static func bootArchive(
        image: String, scratch: String, tokenPath: String, env: String, arguments: [String]
    ) throws -> String {
        let boot = scratch + "/boot.cpio"
        var archive = try CPIOArchive(path: boot)
        archive.directory("lockstep", mode: 0o700)
        guard let token = FileManager.default.contents(atPath: tokenPath) else {
            throw WireError(.modeFailed, "cannot read the token file \(tokenPath)")
        }
        archive.file("lockstep/token", mode: 0o600, contents: token)
        archive.file("lockstep/boot.env", contents: Data(env.utf8))
        archive.file("lockstep/args", contents: Data((arguments.joined(separator: "\n") + "\n").utf8))
        try archive.finish()
        let initrd = scratch + "/initrd"
        try? FileManager.default.removeItem(atPath: initrd)
        try FileManager.default.copyItem(atPath: image, toPath: initrd)
        _ = chmod(initrd, 0o600)
        guard let out = FileHandle(forWritingAtPath: initrd), let extra = FileManager.default.contents(atPath: boot)
        else { throw WireError(.modeFailed, "cannot write \(initrd)") }
        defer { try? out.close() }
        out.seekToEndOfFile()
        out.write(extra)
        return initrd
    }

    /// Waits until the guest's console shows the agent starting; `nil` then, else why not (qemu
    /// ended, KVM failed, or the time ran out), with the console's and qemu's last lines.
    static func waitForBoot(_ process: ServerProcess, console: String, withinNs: Int64) -> String? {
        let deadline = MonotonicClock.now() + withinNs
        func tail() -> String {
            let text = (try? String(contentsOfFile: console, encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n").suffix(2).joined(separator: " | ")
            let qemu = process.logTail(lines: 2)
            return [lines, qemu].filter { !$0.isEmpty }.joined(separator: " | ")
        }
        while MonotonicClock.now() < deadline {
            if let end = process.exitDescription() { return "qemu \(end): \(tail())" }
            let text = (try? String(contentsOfFile: console, encoding: .utf8)) ?? ""
            if text.contains(VMImageBuilder.agentMarker) { return nil }
            let log = (try? String(contentsOfFile: process.logPath, encoding: .utf8)) ?? ""
            if log.contains("KVM internal error") || log.contains("emulation failure") {
                return "KVM: \(process.logTail(lines: 2))"
            }
            usleep(50_000)
        }
        return "no guest agent within \(withinNs / 1_000_000_000) s: \(tail())"
    }

    /// The vCPUs' host threads (QMP `query-cpus-fast`), each pinned to one of `cpus` in turn when given.
    static func pinVCPUs(scratch: String, cpus: [Int]?, setup: inout ModeSetup) throws -> [Int32] {
        var qmp = try QMPClient(path: scratch + "/qmp.sock")
        defer { qmp.close() }
        let threads = try qmp.vcpuThreads()
        if let cpus, !cpus.isEmpty {
            for (i, thread) in threads.enumerated() {
                _ = try setup.run("taskset", ["-p", "-c", String(cpus[i % cpus.count]), String(thread)])
            }
        }
        return threads
    }
}

/// Hugepages for a guest's memory.
enum Hugepages {
    /// Why `memoryMiB` of hugepages cannot be had, or `nil`.
    static func shortfall(memoryMiB: Int) -> String? {
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        guard mounts.split(separator: "\n").contains(where: { $0.contains(" /dev/hugepages hugetlbfs ") }) else {
            return "no hugetlbfs at /dev/hugepages (mount -t hugetlbfs none /dev/hugepages)"
        }
        let info = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        func value(_ key: String) -> Int {
            info.split(separator: "\n").first { $0.hasPrefix(key + ":") }
                .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
        }
        let sizeKiB = max(value("Hugepagesize"), 1)
        let needed = (memoryMiB * 1024 + sizeKiB - 1) / sizeKiB
        let free = value("HugePages_Free")
        return free >= needed
            ? nil : "\(needed) free hugepages of \(sizeKiB) KiB needed, \(free) free (sysctl vm.nr_hugepages)"
    }
}

/// The host threads of a `kvm` guest, for the host CPU's breakdown: qemu's process, its vCPU
/// threads, and whether vhost-net kernel threads (`vhost-PID`) carry its network.
struct QemuThreads: Sendable, Equatable {
    var pid: Int32
    var vcpus: [Int32]
    var vhost: Bool
}
