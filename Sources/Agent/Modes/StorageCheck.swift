import CLockstepSys
import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// The storage placement's prerequisites on the SUT's host, checked before any step: the storage
/// folder exists and takes files, has room for the plan's largest data file, and takes O_DIRECT
/// where a step asks for it.
enum StorageCheck {
    /// One line per problem of `place`'s storage, empty when it can run.
    static func problems(_ place: Place, stateDirectory: String) -> [String] {
        let folder = place.storageDir ?? stateDirectory
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            return ["storage: the folder \(folder) does not exist on the SUT's host (--storage-dir)"]
        }
        guard access(folder, W_OK) == 0 else { return ["storage: \(folder) is not writable by the agent"] }
        var out: [String] = []
        if let bytes = place.storageBytes {
            var fs = statvfs()
            if statvfs(folder, &fs) == 0 {
                let free = Int64(fs.f_bavail) * Int64(fs.f_frsize)
                if free < bytes {
                    out.append("storage: \(folder) has \(free >> 20) MiB free, the plan needs \(bytes >> 20) MiB")
                }
            }
        }
        if place.directIO && lockstep_accepts_direct_io(folder) != 1 {
            out.append("storage: \(folder) refuses O_DIRECT (direct=1): choose another --storage-dir or --direct 0")
        }
        return out
    }
}
