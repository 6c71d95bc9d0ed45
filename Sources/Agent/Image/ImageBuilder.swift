import Foundation
import Shared

/// Builds the container modes' image: the guest agent's ``RootFS``, tarred and `docker import`ed
/// (no registry, no Dockerfile build).
struct ImageBuilder {
    let agent: String
    let tag: String
    /// Lines of progress.
    var progress: (String) -> Void = { print($0) }

    /// Builds and imports the image; returns its id.
    func build() throws -> String {
        let problems = Self.problems(agent: agent)
        guard problems.isEmpty else { throw WireError(.modePrerequisites, problems.joined(separator: "; ")) }
        let root = try ServerFolder.make(prefix: "lockstep-image")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try RootFS(agent: agent, progress: progress).assemble(into: root)
        let tarball = root + ".tar"
        defer { try? FileManager.default.removeItem(atPath: tarball) }
        try HostCommand.run("tar", ["-C", root, "-cf", tarball, "."], timeoutSeconds: 300)
        let id = try Docker.run([
            "import", "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--change", "WORKDIR /", tarball, tag,
        ]).trimmingCharacters(in: .whitespacesAndNewlines)
        progress("imported \(tag): \(id)")
        return id
    }

    /// What is missing to build the image, one line each naming the fix.
    static func problems(agent: String) -> [String] {
        var out = RootFS.problems(agent: agent)
        if Executable.find("docker") == nil { out.append("docker is missing: apt-get install docker.io") }
        if Executable.find("tar") == nil { out.append("tar is missing: apt-get install tar") }
        return out
    }
}
