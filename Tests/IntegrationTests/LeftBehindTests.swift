import Foundation
import Shared
import TestSupport
import Testing

@testable import Agent

#if canImport(Glibc)
    import Glibc
#endif

extension Integration {
    /// A teardown that cannot remove everything (chaos found containers left for good when dockerd
    /// was down as their session ended) keeps the journal record and tries again at the next
    /// session. Here the placement's folder sits on a tmpfs made read-only. Needs root (mount).
    @Suite struct LeftBehindTests {
        static func mount(_ arguments: [String], program: String = "/usr/bin/mount") throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: program)
            p.arguments = arguments
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "mount \(arguments)")
        }

        @Test func aFailedTeardownIsKeptAndTriedAgainAtTheNextSession() throws {
            let scratch = Scratch()
            let disk = scratch.path + "/disk"
            try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
            try Self.mount(["-t", "tmpfs", "-o", "size=1m", "tmpfs", disk])
            defer { _ = try? Self.mount(["-l", disk], program: "/usr/bin/umount") }
            let id = GuestRecord.newID()
            let folder = disk + "/lockstep-vm-\(id)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try "x".write(toFile: folder + "/console.log", atomically: false, encoding: .utf8)
            let state = scratch.path + "/state"
            let launch = GuestLaunch(
                agentPath: Binaries.agent, tokenPath: "", hostName: "sut", leaseSeconds: 3, stateDirectory: state)
            let journal = PlacementJournal(directory: state)
            var record = GuestRecord(
                id: id, mode: .kvm, ownerPID: getpid(), ownerStart: GuestRecord.startTime(getpid()))
            record.folders = [folder]
            journal.write(record)
            try Self.mount(["-o", "remount,ro", disk])

            // The session ends while the folder cannot go: the record stays, marked.
            let trouble = journal.remove(record)
            #expect(trouble.count == 1 && trouble[0].contains(folder), "\(trouble)")
            #expect(journal.records().map(\.leftBehind) == [trouble])
            // The next session tries again: still read-only, still kept.
            let again = SessionGuests(launch: launch).retried
            #expect(again.count == 1 && again[0].contains("still there"), "\(again)")
            #expect(journal.records().count == 1)

            // Writable again: the next session removes it and the record.
            try Self.mount(["-o", "remount,rw", disk])
            let guests = SessionGuests(launch: launch)
            #expect(guests.retried.count == 1 && guests.retried[0].contains("removed now"), "\(guests.retried)")
            #expect(!FileManager.default.fileExists(atPath: folder))
            #expect(journal.records().isEmpty)
            #expect(guests.end().isEmpty)
        }
    }
}
