import CLockstepSys
import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// A `kvm` guest's virtio-blk disk as qemu gets it: a host block device the user named (given an
/// ext4 file system now: it is overwritten), an existing file, or a sparse ext4 file lockstep makes
/// under the storage folder in raw or qcow2 format (journaled, removed with the guest); its host
/// cache mode and I/O backend.
struct GuestDisk: Equatable, Sendable {
    var path: String
    var format: DiskFormat
    var cache: DiskCache
    var aio: DiskAIO
    /// Whether `path` is a host block device.
    var device: Bool

    /// qemu's `-drive` value.
    var drive: String {
        "file=\(path),if=virtio,format=\(format.rawValue),cache=\(cache.rawValue),aio=\(aio.rawValue)"
    }

    /// The `disk` label of samples on this disk: `qcow2,cache=none,aio=native` (`device,...` for a device).
    var label: String { "\(device ? "device" : format.rawValue),cache=\(cache.rawValue),aio=\(aio.rawValue)" }

    /// For run.json: the file or device and its settings.
    var description: String { "\(path) (virtio-blk, \(label))" }

    /// Makes (or takes) the disk for the placement `id`; every file it makes is added to `record`
    /// before it is made. `nil` when this host cannot format one (no mkfs.ext4).
    static func prepare(
        _ vm: VMSettings, storageDir: String?, scratch: String, record: inout GuestRecord, journal: PlacementJournal,
        setup: inout ModeSetup
    ) throws -> GuestDisk? {
        if let named = vm.disk, isBlockDevice(named) {
            if let problem = deviceProblem(named) { throw WireError(.modeFailed, problem) }
            _ = try setup.run("mkfs.ext4", ["-q", "-F", "-L", "lockstep", named])
            return GuestDisk(path: named, format: .raw, cache: vm.diskCache ?? .none, aio: vm.diskAIO, device: true)
        }
        let folder = storageDir ?? scratch
        let path = vm.disk ?? "\(folder)/lockstep-disk-\(record.id).\(vm.diskFormat == .qcow2 ? "qcow2" : "img")"
        // A named file is taken as it is: qcow2 by its name, else raw.
        let format = vm.disk == nil ? vm.diskFormat : (path.hasSuffix(".qcow2") ? DiskFormat.qcow2 : .raw)
        if !FileManager.default.fileExists(atPath: path) {
            guard Executable.find("mkfs.ext4") != nil else { return nil }
            record.folders.append(path)
            journal.write(record)
            let raw = format == .qcow2 ? path + ".raw" : path
            if format == .qcow2 {
                record.folders.append(raw)
                journal.write(record)
            }
            guard FileManager.default.createFile(atPath: raw, contents: nil, attributes: [.posixPermissions: 0o600]),
                truncate(raw, off_t(vm.diskGiB) << 30) == 0
            else { throw WireError(.modeFailed, "cannot make the guest's disk \(raw)") }
            _ = try setup.run("mkfs.ext4", ["-q", "-F", "-L", "lockstep", raw])
            if format == .qcow2 {
                _ = try setup.run("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", raw, path])
                try? FileManager.default.removeItem(atPath: raw)
            }
        }
        let directIO = lockstep_accepts_direct_io((path as NSString).deletingLastPathComponent) == 1
        // cache=none is O_DIRECT on the host, as the paper ran KVM's disks; tmpfs refused it before 6.6.
        let cache = vm.diskCache ?? (directIO ? .none : .writeback)
        if cache == .none && !directIO {
            throw WireError(
                .modeFailed,
                "the folder of \(path) refuses O_DIRECT: give --vm-disk-cache writeback or another --storage-dir")
        }
        return GuestDisk(path: path, format: format, cache: cache, aio: vm.diskAIO, device: false)
    }

    /// Whether `path` is a block device.
    static func isBlockDevice(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFBLK
    }

    /// Why a named device cannot be given to a guest: not a block device, or mounted (it or a
    /// partition of it).
    static func deviceProblem(_ path: String) -> String? {
        guard isBlockDevice(path) else { return "--vm-disk \(path) is not a block device" }
        let resolved =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: path)).map {
                $0.hasPrefix("/") ? $0 : ((path as NSString).deletingLastPathComponent + "/" + $0)
            } ?? path
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        for line in mounts.split(separator: "\n") {
            guard let source = line.split(separator: " ").first.map(String.init) else { continue }
            if source == path || source == resolved || source.hasPrefix(resolved) && resolved.hasPrefix("/dev/") {
                return
                    "--vm-disk \(path) is mounted (\(line.split(separator: " ").prefix(2).joined(separator: " on "))): "
                    + "lockstep overwrites the device it gives a guest; unmount it or name another"
            }
        }
        return nil
    }
}
