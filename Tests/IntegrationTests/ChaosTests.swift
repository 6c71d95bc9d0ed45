import Foundation
import TestSupport
import Testing

extension Integration {
    /// The CI variant of `bench/chaos.sh`: two minutes of faults (agents, guests, servers, dockerd,
    /// qemu and the coordinator killed or stopped, the test link cut, the results disk full) on a
    /// plan of every workload in native, netns-nat and docker-nat (on a dockerd of the script's own)
    /// and rr and redis in a kvm guest under TCG, every run resumed until complete. Nothing may be
    /// lost, left behind or invalid, and both agents must answer at the end. Needs root, docker.io
    /// and qemu (CI has them).
    @Suite struct ChaosTests {
        @Test func twoMinutesOfFaultsLoseNothingAndLeaveNothing() throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [root + "/bench/chaos.py", "2", "7"]
            process.currentDirectoryURL = URL(fileURLWithPath: root)
            process.environment = ProcessInfo.processInfo.environment.merging(["BIN": Binaries.folder]) { $1 }
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let text = String(decoding: data, as: UTF8.self)
            print(text)
            let last = text.split(separator: "\n").last.map(String.init) ?? ""
            #expect(process.terminationStatus == 0, "\(last)")
            let numbers = last.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            // chaos: N faults of K kinds, steps lost N, leftovers N, invalid files N, agents answering A/A
            #expect(last.hasPrefix("chaos: ") && numbers.count == 7, "\(last)")
            guard numbers.count == 7 else { return }
            #expect(numbers[0] >= 8 && numbers[1] >= 5, "faults \(numbers[0]) of \(numbers[1]) kinds")
            #expect(numbers[2] == 0 && numbers[3] == 0 && numbers[4] == 0, "\(last)")
            #expect(numbers[5] == 2 && numbers[6] == 2, "\(last)")
        }
    }
}
