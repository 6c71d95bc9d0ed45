import Foundation
import Shared
import TestSupport
import Testing

@testable import Agent
@testable import Coordinator

#if canImport(Glibc)
    import Glibc
#endif

/// The pieces of the kvm mode that need no guest: the initramfs archive, the kernel's release and
/// module dependencies, QMP, the settings' checks, the plan keys and the emulation note.
@Suite struct VMImageTests {
    /// Reads a newc archive back: (name, mode, data) per entry, the trailer excluded.
    static func entries(_ bytes: [UInt8]) -> [(name: String, mode: UInt32, data: [UInt8])]? {
        var out: [(String, UInt32, [UInt8])] = []
        var at = 0
        func field(_ i: Int) -> UInt32? {
            UInt32(String(decoding: bytes[(at + 6 + i * 8)..<(at + 14 + i * 8)], as: UTF8.self), radix: 16)
        }
        while at + 110 <= bytes.count {
            guard String(decoding: bytes[at..<(at + 6)], as: UTF8.self) == "070701", let mode = field(1),
                let size = field(6), let nameSize = field(11)
            else { return nil }
            let nameStart = at + 110
            let name = String(decoding: bytes[nameStart..<(nameStart + Int(nameSize) - 1)], as: UTF8.self)
            var dataStart = nameStart + Int(nameSize)
            dataStart += (4 - dataStart % 4) % 4
            if name == "TRAILER!!!" { return out }
            out.append((name, mode, Array(bytes[dataStart..<(dataStart + Int(size))])))
            at = dataStart + Int(size)
            at += (4 - at % 4) % 4
        }
        return nil
    }

    @Test func theArchiveIsNewcWithEveryEntryPaddedAndATrailer() throws {
        let scratch = Scratch()
        let tree = scratch.path + "/tree"
        try FileManager.default.createDirectory(atPath: tree + "/bin", withIntermediateDirectories: true)
        try Data("#!/bin/sh\necho hi\n".utf8).write(to: URL(fileURLWithPath: tree + "/init"))
        chmod(tree + "/init", 0o755)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: tree + "/bin/busybox"))
        symlink("busybox", tree + "/bin/sh")
        var archive = try CPIOArchive(path: scratch.path + "/a.cpio")
        try archive.add(tree: tree)
        archive.file("lockstep/token", mode: 0o600, contents: Data("secret".utf8))
        try archive.finish()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: scratch.path + "/a.cpio")))
        #expect(bytes.count % 4 == 0)
        let read = try #require(Self.entries(bytes))
        let byName = Dictionary(read.map { ($0.name, $0) }) { a, _ in a }
        #expect(Set(byName.keys) == ["bin", "init", "bin/busybox", "bin/sh", "lockstep/token"])
        #expect(byName["init"]!.mode == UInt32(S_IFREG) | 0o755)
        #expect(String(decoding: byName["init"]!.data, as: UTF8.self) == "#!/bin/sh\necho hi\n")
        #expect(byName["bin/sh"]!.mode & UInt32(S_IFMT) == UInt32(S_IFLNK))
        #expect(String(decoding: byName["bin/sh"]!.data, as: UTF8.self) == "busybox")
        #expect(byName["bin"]!.mode & UInt32(S_IFMT) == UInt32(S_IFDIR))
        #expect(byName["lockstep/token"]!.mode == UInt32(S_IFREG) | 0o600)
        // A folder comes before what it holds, as the kernel needs to unpack it.
        let names = read.map(\.name)
        #expect(names.firstIndex(of: "bin")! < names.firstIndex(of: "bin/busybox")!)
    }

    @Test func theKernelsReleaseComesFromTheBzImageHeaderOrTheVersionString() throws {
        let scratch = Scratch()
        var bz = [UInt8](repeating: 0, count: 0x1000)
        bz.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
        let at = 0x300
        bz[0x20E] = UInt8((at - 0x200) & 0xFF)
        bz[0x20F] = UInt8((at - 0x200) >> 8)
        bz.replaceSubrange(at..<(at + 40), with: Array("6.1.0-57-amd64 (debian-kernel@lists)\u{0}...".utf8).prefix(40))
        try Data(bz).write(to: URL(fileURLWithPath: scratch.path + "/bzImage"))
        #expect(try GuestKernel.release(of: scratch.path + "/bzImage") == "6.1.0-57-amd64")
        let elf =
            [0x7F, 0x45, 0x4C, 0x46] + [UInt8](repeating: 0, count: 64) + Array("Linux version 6.12.1-test (x)".utf8)
        try Data(elf).write(to: URL(fileURLWithPath: scratch.path + "/vmlinux"))
        #expect(try GuestKernel.release(of: scratch.path + "/vmlinux") == "6.12.1-test")
        // An ELF kernel is booted as it is.
        #expect(try GuestKernel.bootable(scratch.path + "/vmlinux", work: scratch.path) == scratch.path + "/vmlinux")
        try Data("not a kernel".utf8).write(to: URL(fileURLWithPath: scratch.path + "/junk"))
        #expect(throws: WireError.self) { try GuestKernel.release(of: scratch.path + "/junk") }
    }

    @Test func modulesComeDependenciesFirstAndBuiltInsNeedNoFile() throws {
        let scratch = Scratch()
        let root = scratch.path + "/lib/modules/9.9.9"
        func module(_ path: String, depends: String) throws {
            let file = root + "/kernel/" + path
            try FileManager.default.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(Array("\u{7F}ELF junk\u{0}license=GPL\u{0}depends=\(depends)\u{0}vermagic=9.9.9\u{0}".utf8))
                .write(to: URL(fileURLWithPath: file))
        }
        try module("drivers/net/virtio_net.ko", depends: "net_failover,virtio_ring,virtio")
        try module("drivers/net/net_failover.ko", depends: "failover")
        try module("net/core/failover.ko", depends: "")
        try module("drivers/virtio/virtio_ring.ko", depends: "")
        try module("drivers/virtio/virtio.ko", depends: "virtio_ring")
        try "kernel/fs/crc16.ko\n".write(toFile: root + "/modules.builtin", atomically: true, encoding: .utf8)
        try module("fs/ext4/ext4.ko", depends: "crc16")
        let kernel = GuestKernel(image: "", release: "9.9.9", source: "test", modules: root)
        // crc32c_generic (ext4's softdep) is taken where the kernel has it and skipped where it has not.
        #expect(
            try kernel.moduleFiles(GuestKernel.wanted.filter { $0 != "virtio_pci" && $0 != "virtio_blk" }).count == 6)
        try module("crypto/crc32c_generic.ko", depends: "")
        #expect(try kernel.moduleFiles(["crc32c_generic", "ext4"]).first?.hasSuffix("crc32c_generic.ko") == true)
        let names = try kernel.moduleFiles(["virtio_net", "ext4"]).map {
            ($0 as NSString).lastPathComponent.replacingOccurrences(of: ".ko", with: "")
        }
        #expect(names == ["failover", "net_failover", "virtio_ring", "virtio", "virtio_net", "ext4"])
        #expect(throws: WireError.self) { try kernel.moduleFiles(["virtio_blk"]) }
    }

    @Test func qmpGivesTheVCPUThreadsFromAQemuLikeServer() throws {
        let scratch = Scratch()
        let path = scratch.path + "/qmp.sock"
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in Array(path.utf8).enumerated() { raw[i] = b }
        }
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        listen(listener, 1)
        defer { close(listener) }
        let server = Thread {
            let fd = accept(listener, nil, nil)
            defer { close(fd) }
            func say(_ line: String) { _ = (line + "\n").withCString { send(fd, $0, strlen($0), 0) } }
            func hear() -> String {
                var buffer = [UInt8](repeating: 0, count: 512)
                let n = recv(fd, &buffer, buffer.count, 0)
                return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
            }
            say(#"{"QMP": {"version": {"qemu": {"major": 7}}, "capabilities": []}}"#)
            if hear().contains("qmp_capabilities") { say(#"{"return": {}}"#) }
            if hear().contains("query-cpus-fast") {
                // An event in between, and the vCPUs out of order.
                say(#"{"event": "NIC_RX_FILTER_CHANGED", "data": {}}"#)
                say(#"{"return": [{"cpu-index": 1, "thread-id": 4242}, {"cpu-index": 0, "thread-id": 4241}]}"#)
            }
            if hear().contains("quit") { say(#"{"error": {"class": "GenericError", "desc": "not now"}}"#) }
        }
        server.start()
        var qmp = try QMPClient(path: path)
        defer { qmp.close() }
        #expect(try qmp.vcpuThreads() == [4241, 4242])
        #expect(throws: WireError.self) { try qmp.execute("quit") }
    }

    @Test func vmSettingsAndTheirOptionsAreChecked() throws {
        #expect(VMSettings().problems().isEmpty)
        #expect(VMSettings(cpus: 0).problems().count == 1)
        #expect(VMSettings(memoryMiB: 100).problems().count == 1)
        #expect(VMSettings(bridge: "br0").problems().first?.contains("go together") == true)
        #expect(VMSettings(bridge: "br0", address: "198.19.0.10").problems().first?.contains("prefix") == true)
        #expect(VMSettings(bridge: "br0", address: "198.19.0.10/24").problems().isEmpty)
        let parsed = try RROptions.parse([
            "--mode", "kvm", "--vm-cpus", "2", "--vm-memory", "1536MiB", "--accel", "tcg", "--vm-hugepages",
        ])
        let vm = try parsed.placement.vmSettings()
        #expect(vm == VMSettings(cpus: 2, memoryMiB: 1536, accel: .tcg, hugepages: true))
        #expect(throws: (any Error).self) { try RROptions.parse(["--accel", "hvf"]) }
        #expect(throws: (any Error).self) { try RROptions.parse(["--vm-cpus", "0"]).steps() }
    }

    @Test func aPlanSetsTheGuestRunWideAndRefusesItInAnExperiment() throws {
        let scratch = Scratch()
        let path = scratch.path + "/plan.yaml"
        try """
        modes: [native, kvm]
        vm-image: /srv/vm
        vm-cpus: 2
        accel: tcg
        vm-hugepages: true
        experiments:
          - rr: {protocol: tcp}

        """.write(toFile: path, atomically: true, encoding: .utf8)
        let plan = try PlanFile.load(path)
        #expect(plan.vm == VMSettings(image: "/srv/vm", cpus: 2, accel: .tcg, hugepages: true))
        try """
        modes: [kvm]
        experiments:
          - rr: {protocol: tcp, vm-cpus: 2}

        """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: FileError.self) { try PlanFile.load(path) }
        try """
        modes: [kvm]
        accel: hvf
        experiments:
          - rr: {protocol: tcp}

        """.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try PlanFile.load(path)
            Issue.record("an unknown accelerator was accepted")
        } catch let error as FileError {
            #expect(error.message.contains("plan.yaml:2:") && error.message.contains("accel"), "\(error.message)")
        }
    }

    @Test func theEmulationNoteNamesTheTCGStepsOnly() {
        #expect(Emulation.note(cells: []) == nil)
        let note = Emulation.note(cells: ["rr-tcp-kvm"])
        #expect(note?.contains("rr-tcp-kvm") == true && note?.contains("not performance results") == true)
    }
}
