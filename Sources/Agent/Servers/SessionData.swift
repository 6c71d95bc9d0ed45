import Foundation
import Shared
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The data folders one session has the agent keep for its workloads (fio's file): one per storage
/// root, made at the first step that needs it, reused by the session's later steps, journaled before
/// it is made (as a placement's resources are) and removed when the session ends; a killed agent's
/// are swept at the next start.
final class SessionData: Sendable {
    private let journal: PlacementJournal
    /// A guest's own storage (a container's volume, a VM's disk), which comes before the step's folder.
    private let dataDirectory: String?
    private let stateDirectory: String
    private let made = Mutex<[String: GuestRecord]>([:])

    init(stateDirectory: String, dataDirectory: String?) {
        self.stateDirectory = stateDirectory
        self.dataDirectory = dataDirectory
        journal = PlacementJournal(directory: stateDirectory)
    }

    /// The session's data folder under the guest's own storage, else `storageDir`, else the state
    /// folder: `ROOT/lockstep-data-ID` (0700).
    func folder(storageDir: String?) throws -> String {
        try folder(root: dataDirectory ?? storageDir ?? stateDirectory)
    }

    /// The session's folder in the agent's own state folder, for work files that belong to no
    /// storage placement (hpcc's input and output, the compression corpus): in a guest, its state
    /// folder rather than its data disk.
    func scratchFolder() throws -> String { try folder(root: stateDirectory) }

    private func folder(root: String) throws -> String {
        try made.withLock { made in
            if let record = made[root], let folder = record.folders.first,
                FileManager.default.fileExists(atPath: folder)
            {
                return folder
            }
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isFolder), isFolder.boolValue else {
                throw WireError(.badStep, "the storage folder \(root) does not exist on this host")
            }
            var record = GuestRecord(
                id: GuestRecord.newID(), mode: .native, ownerPID: getpid(), ownerStart: GuestRecord.startTime(getpid()))
            let folder = "\(root)/lockstep-data-\(record.id)"
            record.folders = [folder]
            journal.write(record)
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            } catch {
                journal.remove(record)
                throw WireError(.badStep, "cannot make a data folder in \(root): \(error.localizedDescription)")
            }
            made[root] = record
            return folder
        }
    }

    /// Removes every folder the session made; a line per folder removed.
    @discardableResult
    func removeAll() -> [String] {
        let records = made.withLock { made in
            defer { made.removeAll() }
            return Array(made.values)
        }
        return records.map { record in
            let trouble = journal.remove(record)
            return record.folders.joined(separator: ", ")
                + (trouble.isEmpty ? "" : " (\(trouble.joined(separator: "; ")))")
        }
    }
}
