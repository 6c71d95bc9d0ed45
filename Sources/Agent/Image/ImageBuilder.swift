import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// Builds the container image the container modes and the Kubernetes DaemonSets run: the guest
/// agent's ``RootFS`` with ``ContainerImage/file`` (`FROM scratch`, `COPY . /`) as a build context,
/// then `docker build` (no registry, no base image). `--context` stops after writing the context,
/// for another engine (podman, buildah) or another machine.
struct ImageBuilder {
    let agent: String
    let tag: String
    /// Lines of progress.
    var progress: (String) -> Void = { print($0) }

    /// Writes the build context (the tree, the Containerfile, a .dockerignore) into `folder`.
    func writeContext(_ folder: String) throws {
        let problems = RootFS.problems(agent: agent)
        guard problems.isEmpty else { throw WireError(.modePrerequisites, problems.joined(separator: "; ")) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try RootFS(agent: agent, progress: progress).assemble(into: folder)
        try (ContainerImage.file + "\n").write(toFile: folder + "/Containerfile", atomically: true, encoding: .utf8)
        try ContainerImage.ignore.write(toFile: folder + "/.dockerignore", atomically: true, encoding: .utf8)
    }

    /// Builds the image from a fresh context; returns its id.
    func build() throws -> String {
        let problems = Self.problems(agent: agent)
        guard problems.isEmpty else { throw WireError(.modePrerequisites, problems.joined(separator: "; ")) }
        let context = try ServerFolder.make(prefix: "lockstep-image")
        defer { try? FileManager.default.removeItem(atPath: context) }
        try writeContext(context)
        try Docker.run(["build", "--quiet", "-f", context + "/Containerfile", "-t", tag, context], timeout: 600)
        let id = try Docker.run(["image", "inspect", "--format", "{{.Id}}", tag])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        progress("built \(tag): \(id)")
        return id
    }

    /// What is missing to build the image, one line each naming the fix.
    static func problems(agent: String) -> [String] {
        var out = RootFS.problems(agent: agent)
        if Executable.find("docker") == nil { out.append("docker is missing: apt-get install docker.io") }
        return out
    }
}
