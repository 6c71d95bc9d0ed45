import Foundation
import Shared
import TestSupport
import Testing

@testable import Coordinator

/// Lab files: what a good one yields, and one clear line with line and column for a bad one.
@Suite struct LabFileTests {
    static let good = """
        known_hosts: hosts.known
        token_file: lab.token
        hosts:
          - name: sut
            role: sut
            ssh: admin@192.0.2.10:2222
            identity: id_ed25519
            control: 192.0.2.10:7470
            data: 198.18.1.2
            agent_dir: /opt/lockstep
          - name: peer
            role: peer
            ssh: 192.0.2.11
            control: 192.0.2.11:7470
            data: 198.18.1.3
            agent_dir: /opt/lockstep
        """

    let scratch = Scratch()

    func write(_ text: String) throws -> String {
        let path = scratch.path + "/lab.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aGoodLabFileNamesEverything() throws {
        let path = try write(Self.good)
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let lab = try LabFile.load(path)
        #expect(lab.knownHosts == dir + "/hosts.known")
        #expect(lab.tokenFile == dir + "/lab.token")
        let sut = lab.host(.sut)
        #expect(sut.ssh?.user == "admin" && sut.ssh?.host == "192.0.2.10" && sut.ssh?.port == 2222)
        #expect(sut.ssh?.identity == dir + "/id_ed25519")
        #expect(sut.control == Endpoint(host: "192.0.2.10", port: 7470))
        #expect(sut.data == "198.18.1.2")
        let peer = lab.host(.peer)
        #expect(peer.ssh?.user == "root" && peer.ssh?.port == 22 && peer.ssh?.identity == nil)
        #expect(sut.ssh?.passphrase == nil)
    }

    @Test func aLabWithOnlyASUTServesTheWorkloadsThatNeedNoPeer() throws {
        let text = Self.good.components(separatedBy: "  - name: peer")[0]
        let lab = try LabFile.load(try write(text))
        #expect(lab.hosts(.peer).isEmpty && lab.host(.sut).name == "sut")
        // A run of such a lab is refused before anything starts only where a step needs a peer.
        let token = try scratch.token().token
        func plan(_ workload: Workload) -> RunPlan {
            RunPlan(
                sut: lab.host(.sut).control, peers: [], sutDataHost: "198.18.1.2", token: token,
                steps: [PlannedStep(workload)], outDirectory: scratch.path + "/run", command: "test")
        }
        #expect(plan(Workload(FioSpec(job: FioJob(rw: .randread, blockSize: 4096, iodepth: 16)))).missingPeers == nil)
        #expect(plan(Workload(RRSpec())).missingPeers?.contains("rr needs at least one peer agent") == true)
    }

    @Test func aPassphraseComesFromItsFile() throws {
        try "s3cret\n".write(toFile: scratch.path + "/key.pass", atomically: true, encoding: .utf8)
        let path = try write(
            Self.good.replacingOccurrences(
                of: "    identity: id_ed25519", with: "    identity: id_ed25519\n    passphrase_file: key.pass"))
        #expect(try LabFile.load(path).host(.sut).ssh?.passphrase == "s3cret")
        let missing = try write(
            Self.good.replacingOccurrences(
                of: "    identity: id_ed25519", with: "    identity: id_ed25519\n    passphrase_file: nope.pass"))
        #expect(throws: FileError.self) { _ = try LabFile.load(missing) }
    }

    @Test(arguments: [
        ("hosts: [\n  - name: sut\n    role: sut\n", "line"),  // unterminated flow sequence
        (good.replacingOccurrences(of: "    data: 198.18.1.2", with: "    dta: 198.18.1.2"), ":9:5: unknown key 'dta'"),
        (good.replacingOccurrences(of: "    role: peer", with: "    role: client"), ":12:11: role must be sut or peer"),
        (
            good.replacingOccurrences(of: "    control: 192.0.2.11:7470", with: "    control: nowhere"),
            ":14:14: control must be HOST:PORT"
        ),
        (good.replacingOccurrences(of: "    role: peer", with: "    role: sut"), "exactly one host with role sut"),
        ("hosts: 3\n", "`hosts` must be a list"),
    ])
    func aBadLabFileIsOneLineWithItsPosition(text: String, says: String) throws {
        let path = try write(text)
        #expect {
            _ = try LabFile.load(path)
        } throws: { error in
            let e = error as? FileError
            return e?.code == .labFile && e?.message.contains(says) == true && e?.message.contains(path) == true
        }
    }
}
