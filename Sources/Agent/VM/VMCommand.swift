import ArgumentParser
import Foundation
import Shared

/// `lockstep-agent vm build`: the `kvm` mode's guest image, made on the SUT machine from its own files.
struct VMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vm", abstract: "Build the guest image the kvm mode boots.", subcommands: [Build.self])

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Write a kernel and an initramfs (busybox, the agent, redis-server, mariadbd, virtio modules, an init) into a folder.",
            discussion: """
                The kernel is --kernel, or the one in Debian's linux-image-amd64 package, fetched with \
                `apt-get download` and unpacked with `dpkg-deb -x` (not installed). Build with a \
                statically linked agent (swift build -c release --static-swift-stdlib) for a small image.
                """)

        @Option(help: "The agent to put in (default: this executable).")
        var agent: String?

        @Option(help: "A kernel image (bzImage or vmlinux) instead of Debian's linux-image-amd64.")
        var kernel: String?

        @Option(help: "The modules folder of --kernel (default: /lib/modules/RELEASE).")
        var modules: String?

        @Option(help: "The image folder (default: the agent state folder's vm, where the kvm mode looks).")
        var out: String?

        @Option(help: "The agent state folder whose vm folder is the default --out.")
        var stateDir: String?

        func run() throws {
            let path = agent ?? AgentConfig.ownExecutable
            let folder = out ?? VMImage.defaultFolder(state: stateDir ?? AgentConfig.defaultStateDirectory)
            try AgentCommand.reportingErrors {
                _ = try VMImageBuilder(agent: path, kernel: kernel, modules: modules, out: folder).build()
            }
        }
    }
}
