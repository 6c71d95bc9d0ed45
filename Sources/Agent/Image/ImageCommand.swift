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
            abstract:
                "Assemble the image from this host's files (no registry) and build it with the Docker engine (deploy/container/Containerfile)."
        )

        @Option(help: "The statically linked agent to put in (default: this executable).")
        var agent: String?

        @Option(help: "The image's tag (default: lockstep-agent:VERSION, the one the container modes use).")
        var tag: String?

        @Option(help: "Only write the build context (the tree and the Containerfile) into this folder.")
        var context: String?

        func run() throws {
            let path = agent ?? AgentConfig.ownExecutable
            try AgentCommand.reportingErrors {
                let builder = ImageBuilder(agent: path, tag: tag ?? Docker.defaultImage)
                if let context {
                    try builder.writeContext(context)
                    print("wrote the build context to \(context): docker build -t \(builder.tag) \(context)")
                    return
                }
                _ = try builder.build()
            }
        }
    }
}
