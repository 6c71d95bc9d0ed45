import Foundation
import Shared

/// A guest image as `lockstep-agent vm build` writes it into a folder: the kernel qemu boots, the
/// initramfs (the guest agent's ``RootFS``, the virtio and ext4 modules, an init), and `manifest.json`
/// saying what went in. It holds no secret: each boot adds its own small archive with the token.
struct VMImage: Codable, Equatable, Sendable {
    /// The lockstep version of the agent inside: a guest speaks the host agent's protocol version.
    var lockstepVersion: String
    var builtAt: String
    /// The kernel's file name in the folder, its release, and where it came from.
    var kernel: String
    var kernelRelease: String
    var kernelSource: String
    /// The initramfs's file name in the folder.
    var initramfs: String
    /// Modules the init loads, in order.
    var modules: [String]
    /// The agent put in, what else went in, and whether the agent needs Swift's shared libraries.
    var agentPath: String
    var agentBytes: Int64
    var agentLinksSwiftDynamically: Bool
    var programs: [String]
    var libraries: Int

    static let manifestName = "manifest.json"

    /// The default image folder: `vm` in the host agent's state folder.
    static func defaultFolder(state: String) -> String { state + "/vm" }

    /// The image in `folder`, or the line saying why there is none.
    static func load(_ folder: String) -> Result<VMImage, WireError> {
        let path = folder + "/" + manifestName
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(
                WireError(
                    .modePrerequisites,
                    "kvm needs a guest image in \(folder): build it on the SUT host with `lockstep-agent vm build --out \(folder)`"
                ))
        }
        do {
            let image = try JSONDecoder().decode(VMImage.self, from: data)
            for file in [image.kernel, image.initramfs]
            where !FileManager.default.fileExists(atPath: folder + "/" + file) {
                return .failure(
                    WireError(.modePrerequisites, "the guest image in \(folder) lacks \(file): build it again"))
            }
            return .success(image)
        } catch {
            return .failure(WireError(.modePrerequisites, "\(path) is not a lockstep guest image manifest: \(error)"))
        }
    }

    func write(to folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: folder + "/" + Self.manifestName))
    }
}
