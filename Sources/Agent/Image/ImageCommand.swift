import ArgumentParser
import Foundation
import Shared

/// `lockstep-agent image build`: the container modes' image, made on the SUT machine from its own files.
struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Build the image the container modes run the guest agent in.",
        subcommands: [Build.self])

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Assemble the image from this host's files (no registry) and import it into the Docker engine.")

        @Option(help: "The statically linked agent to put in (default: this executable).")
        var agent: String?

        @Option(help: "The image's tag (default: lockstep-agent:VERSION, the one the container modes use).")
        var tag: String?

        func run() throws {
            let path = agent ?? ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "")
            do {
                _ = try ImageBuilder(agent: path, tag: tag ?? Docker.defaultImage).build()
            } catch let error as WireError {
                FileHandle.standardError.write(Data("lockstep-agent: error: \(error.code): \(error.message)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
