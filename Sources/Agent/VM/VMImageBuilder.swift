import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a ``VMImage`` into a folder from this host's files: the guest agent's ``RootFS`` (agent
/// stripped), the kernel's virtio, virtio-blk and ext4 modules with their dependencies, and an init
/// that mounts what the agent needs, loads the modules, brings up the network from the boot's own
/// archive and runs the guest agent as PID 1 (its end powers the guest off: qemu runs with
/// `-no-reboot` and the kernel with `panic=-1`).
struct VMImageBuilder {
    let agent: String
    var kernel: String?
    var modules: String?
    let out: String
    var progress: (String) -> Void = { print($0) }

    /// What the init prints when it starts and when it hands over to the agent; the host agent
    /// watches the guest's console for them.
    static let initMarker = "lockstep-guest: init"
    static let agentMarker = "lockstep-guest: agent starting"

    /// Writes the image; returns its manifest.
    func build() throws -> VMImage {
        let problems = RootFS.problems(agent: agent)
        guard problems.isEmpty else { throw WireError(.modePrerequisites, problems.joined(separator: "; ")) }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let work = try ServerFolder.make(prefix: "lockstep-vm-build")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let root = work + "/root"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let contents = try RootFS(agent: agent, strip: true, progress: progress).assemble(into: root)
        let dynamic = RootFS.linksSwiftDynamically(agent)
        if dynamic {
            progress(
                "note: \(agent) needs Swift's shared libraries; they went in too (a --static-swift-stdlib agent makes a smaller image)"
            )
        }

        let guestKernel = try GuestKernel.prepare(kernel: kernel, modules: modules, work: work, progress: progress)
        progress("kernel \(guestKernel.release) from \(guestKernel.source)")
        let moduleFiles: [String]
        if guestKernel.modules == nil {
            progress(
                "note: no modules for \(guestKernel.release): the kernel must have virtio_pci, virtio_net (and virtio_blk, ext4 for MySQL) built in"
            )
            moduleFiles = []
        } else {
            moduleFiles = try guestKernel.moduleFiles(GuestKernel.wanted)
        }
        let moduleFolder = root + "/lib/modules/lockstep"
        try FileManager.default.createDirectory(atPath: moduleFolder, withIntermediateDirectories: true)
        var order: [String] = []
        for file in moduleFiles {
            let name = (file as NSString).lastPathComponent
            try FileManager.default.copyItem(atPath: file, toPath: moduleFolder + "/" + name)
            order.append(name)
        }
        try (order.joined(separator: "\n") + "\n").write(
            toFile: moduleFolder + "/order", atomically: true, encoding: .utf8)
        progress("modules: \(order.map { $0.replacingOccurrences(of: ".ko", with: "") }.joined(separator: ", "))")
        for folder in ["proc", "sys", "dev", "run", "data", "lockstep", "root"] {
            try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
        }
        try Self.initScript.write(toFile: root + "/init", atomically: true, encoding: .utf8)
        _ = chmod(root + "/init", 0o755)

        let kernelName = (guestKernel.image as NSString).lastPathComponent.hasPrefix("vmlinux") ? "vmlinux" : "bzImage"
        let initramfs = "initramfs.cpio"
        for name in [kernelName, initramfs, "vmlinux", "bzImage"] {
            try? FileManager.default.removeItem(atPath: out + "/" + name)
        }
        try FileManager.default.copyItem(atPath: guestKernel.image, toPath: out + "/" + kernelName)
        var archive = try CPIOArchive(path: out + "/" + initramfs)
        try archive.add(tree: root)
        try archive.finish()
        _ = chmod(out + "/" + initramfs, 0o644)
        let image = VMImage(
            lockstepVersion: LockstepVersion.current, builtAt: ISO8601DateFormatter().string(from: Date()),
            kernel: kernelName, kernelRelease: guestKernel.release, kernelSource: guestKernel.source,
            initramfs: initramfs, modules: order, agentPath: agent, agentBytes: contents.agentBytes,
            agentLinksSwiftDynamically: dynamic, programs: contents.programs, libraries: contents.libraries.count)
        try image.write(to: out)
        progress(
            "wrote \(out): \(kernelName) (\(RootFS.size(out + "/" + kernelName) / 1_000_000) MB), \(initramfs) "
                + "(\(RootFS.size(out + "/" + initramfs) / 1_000_000) MB)")
        return image
    }

    /// The guest's /init (busybox sh). The boot's own archive adds /lockstep/boot.env (address,
    /// gateway), /lockstep/args (the agent's arguments, one per line) and /lockstep/token.
    static let initScript = """
        #!/bin/sh
        # lockstep guest init, written by lockstep-agent vm build
        export PATH=/bin:/sbin:/usr/bin:/usr/sbin
        mount -t proc proc /proc
        mount -t sysfs sys /sys
        mount -t devtmpfs dev /dev
        mount -t tmpfs -o mode=1777 tmp /tmp
        mount -t tmpfs run /run
        hostname lockstep-guest
        echo "127.0.0.1 localhost lockstep-guest" > /etc/hosts
        echo "\(initMarker)"
        for m in $(cat /lib/modules/lockstep/order); do
          insmod /lib/modules/lockstep/$m || echo "lockstep-guest: insmod $m failed"
        done
        . /lockstep/boot.env
        ip link set lo up
        ip link set eth0 up
        ip addr add "$LOCKSTEP_ADDRESS" dev eth0
        [ -n "$LOCKSTEP_GATEWAY" ] && ip route add default via "$LOCKSTEP_GATEWAY"
        if [ -b /dev/vda ]; then
          mount -t ext4 /dev/vda /data || echo "lockstep-guest: cannot mount /dev/vda on /data"
        fi
        echo "\(agentMarker)"
        exec /lockstep-agent $(cat /lockstep/args)

        """
}
