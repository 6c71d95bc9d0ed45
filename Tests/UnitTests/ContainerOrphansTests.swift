import Foundation
import Testing

@testable import Agent

/// What a container leaves when its engine loses it (a dockerd with its containerd as a child,
/// killed mid-start), found by the container's ID and ended by the teardown.
@Suite struct ContainerOrphansTests {
    static let id = String(repeating: "0123456789abcdef", count: 4)
    static let other = String(repeating: "fedcba9876543210", count: 4)

    /// A folder laid out as /proc: `pid/cmdline` (NUL-separated) and `pid/cgroup` per process.
    static func proc(_ processes: [String: (cmdline: [String], cgroup: String)]) throws -> String {
        let root = NSTemporaryDirectory() + "lockstep-orphans-\(UUID().uuidString)"
        for (pid, process) in processes {
            try FileManager.default.createDirectory(atPath: "\(root)/\(pid)", withIntermediateDirectories: true)
            let cmdline = process.cmdline.map { $0 + "\0" }.joined()
            try Data(cmdline.utf8).write(to: URL(fileURLWithPath: "\(root)/\(pid)/cmdline"))
            try process.cgroup.write(toFile: "\(root)/\(pid)/cgroup", atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(atPath: "\(root)/self", withIntermediateDirectories: true)
        return root
    }

    @Test func theShimAndTheProcessesInTheContainersCgroupAreFoundAndNothingElse() throws {
        let shim = "/usr/bin/containerd-shim-runc-v2"
        let root = try Self.proc([
            "100": ([shim, "-namespace", "moby", "-id", Self.id, "-address", "/run/c.sock"], "0::/\n"),
            "101": (["runc", "init"], "0::/system.slice/docker-\(Self.id).scope\n"),
            "102": (["/lockstep-agent", "serve"], "12:pids:/docker/\(Self.id)\n0::/docker/\(Self.id)\n"),
            "103": ([shim, "-namespace", "moby", "-id", Self.other], "0::/\n"),
            "104": (["runc", "init"], "0::/system.slice/docker-\(Self.other).scope\n"),
            "105": (["grep", "-id", Self.id], "0::/user.slice\n"),
            "106": ([shim, "-id"], "0::/\n"),
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(ContainerOrphans.pids(of: Self.id, procRoot: root).sorted() == [100, 101, 102])
        #expect(ContainerOrphans.pids(of: Self.other, procRoot: root).sorted() == [103, 104])
    }

    @Test func nothingButAWholeContainerIDIsLookedFor() throws {
        let root = try Self.proc(["100": (["runc", "init"], "0::/docker-abc.scope\n")])
        defer { try? FileManager.default.removeItem(atPath: root) }
        for text in ["abc", "", String(Self.id.dropLast()), Self.id.uppercased(), Self.id + "0"] {
            #expect(!ContainerOrphans.isContainerID(text))
            #expect(ContainerOrphans.pids(of: text, procRoot: root).isEmpty)
        }
        #expect(ContainerOrphans.isContainerID(Self.id))
    }

    /// A real process that looks like the container's orphaned shim is killed; one of another
    /// container is left alone.
    @Test func endKillsTheContainersProcessesAndOnlyThem() throws {
        func shim(_ id: String) throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [
                "-c", "exec -a containerd-shim-runc-v2 /usr/bin/python3 -c 'import time; time.sleep(30)' -id \(id)",
            ]
            try process.run()
            return process
        }
        let ours = try shim(Self.id)
        let theirs = try shim(Self.other)
        defer { theirs.terminate() }
        for _ in 0..<100 where !ContainerOrphans.pids(of: Self.other).contains(theirs.processIdentifier) {
            usleep(10_000)
        }
        #expect(ContainerOrphans.end(Self.id) == [ours.processIdentifier])
        ours.waitUntilExit()
        #expect(ours.terminationReason == .uncaughtSignal && ours.terminationStatus == SIGKILL)
        #expect(theirs.isRunning)
    }
}
