import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The processes a container can leave when its engine loses it: a dockerd that ran containerd as
/// its child and was killed while `docker run` started the container leaves the container's
/// containerd shim (`containerd-shim-runc-v2 ... -id ID`) and its `runc init` (in a cgroup named
/// after the ID) running, unknown to the restarted engine, holding the container's address on
/// docker0. `docker rm` cannot reach them; a teardown that knows the container's ID ends them.
enum ContainerOrphans {
    /// Whether `text` is a full container ID (64 lowercase hex digits): nothing shorter is matched,
    /// so that no other process's command line or cgroup can be taken for the container's.
    static func isContainerID(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// The pids under `procRoot` (the `/proc` layout) that belong to container `id`: a shim whose
    /// command line names it after `-id`, or a process whose cgroup path contains it. Not this process.
    static func pids(of id: String, procRoot: String = "/proc") -> [Int32] {
        guard isContainerID(id) else { return [] }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: procRoot)) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), pid > 0, pid != getpid() else { return nil }
            let folder = "\(procRoot)/\(entry)"
            if let cmdline = FileManager.default.contents(atPath: folder + "/cmdline") {
                let arguments = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                if let flag = arguments.firstIndex(of: "-id"), flag + 1 < arguments.count, arguments[flag + 1] == id,
                    arguments.first.map({ $0.contains("containerd-shim") }) == true
                {
                    return pid
                }
            }
            if let cgroup = try? String(contentsOfFile: folder + "/cgroup", encoding: .utf8), cgroup.contains(id) {
                return pid
            }
            return nil
        }
    }

    /// Ends what container `id` left once its engine no longer has it: waits up to a second for
    /// processes on their way out (a shim exits on its own once containerd deleted its task), then
    /// kills the rest. Returns the pids it killed.
    @discardableResult
    static func end(_ id: String, procRoot: String = "/proc") -> [Int32] {
        var left = pids(of: id, procRoot: procRoot)
        for _ in 0..<20 where !left.isEmpty {
            usleep(50_000)
            left = pids(of: id, procRoot: procRoot)
        }
        for pid in left { _ = kill(pid, SIGKILL) }
        return left
    }
}
