import Foundation
import Shared
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension Integration {
    /// The namespace lab end to end, as a user drives two lab machines: sshd in each, the CLI in
    /// the control namespace deploys both agents over SSH (libssh2), runs over the test link,
    /// fetches logs and stops them; and the SSH failures a user meets. Needs root.
    @Suite struct LabEndToEndTests {
        @Test func deployRunFetchLogsStopAndLeaveNothing() throws {
            let name: String
            do {
                let lab = try NamespaceLab(prefix: "e2e", startAgents: false)
                name = lab.name
                let deploy = try lab.inControl(
                    ["agents", "deploy", "--lab", lab.labFile, "--agent-binary", Binaries.agent], label: "deploy")
                #expect(deploy.wait(seconds: 60) == 0, "stderr: \(deploy.stderr)")
                #expect(deploy.stderr.contains("sut: running version"))
                // A second deploy keeps what runs.
                let again = try lab.inControl(["agents", "deploy", "--lab", lab.labFile], label: "deploy-again")
                #expect(again.wait(seconds: 60) == 0, "stderr: \(again.stderr)")
                #expect(again.stderr.contains("kept"))
                let status = try lab.inControl(["agents", "status", "--lab", lab.labFile], label: "status")
                #expect(status.wait(seconds: 30) == 0, "stderr: \(status.stderr)")
                #expect(status.stdout.contains("sut (sut) at 198.18.0.2:7470, up "), "\(status.stdout)")
                #expect(status.stdout.contains("idle, clock offset"))

                let rrOut = lab.scratch.path + "/rr"
                let rr = try lab.inControl(
                    ["rr", "--lab", lab.labFile, "--protocol", "tcp,udp", "--duration", "1s", "--out", rrOut],
                    label: "rr")
                #expect(rr.wait(seconds: 60) == 0, "stderr: \(rr.stderr)")
                let samples = try jsonLines(rrOut + "/samples.jsonl")
                #expect((summaryValue(samples, "transactions_per_sec", step: "rr-tcp-1") ?? 0) > 1000)
                #expect((summaryValue(samples, "transactions_per_sec", step: "rr-udp-2") ?? 0) > 1000)
                let run = try String(contentsOfFile: rrOut + "/run.json", encoding: .utf8)
                #expect(run.contains("\"sut_data\" : \"198.19.0.2\""), "the data went over the test link")
                let log = try jsonLines(rrOut + "/merged-log.jsonl")
                #expect(Set(log.compactMap { $0["host"] as? String }) == ["coordinator", "sut", "peer"])
                try expectCausalOrder(log, step: "rr-tcp-1", runDirectory: rrOut)

                let streamOut = lab.scratch.path + "/stream"
                let stream = try lab.inControl(
                    ["stream", "--lab", lab.labFile, "--duration", "1s", "--warmup", "200ms", "--out", streamOut],
                    label: "stream")
                #expect(stream.wait(seconds: 60) == 0, "stderr: \(stream.stderr)")
                let bulk = try jsonLines(streamOut + "/samples.jsonl")
                #expect((summaryValue(bulk, "goodput_gbps", step: "stream-sut-tx-1") ?? 0) > 0.1)
                #expect((summaryValue(bulk, "goodput_gbps", step: "stream-sut-rx-2") ?? 0) > 0.1)

                // MySQL over the test link: the SUT agent (started over SSH) initializes and starts
                // MariaDB bound to 198.19.0.2. While that run holds the agents, a deploy is refused
                // and status says they are busy.
                let mysqlOut = lab.scratch.path + "/mysql"
                let mysql = try lab.inControl(
                    [
                        "mysql", "--lab", lab.labFile, "--threads", "2", "--table-size", "2000", "--buffer-pool", "64",
                        "--duration", "3s", "--warmup", "0", "--out", mysqlOut,
                    ], label: "mysql")
                try expectEventually(seconds: 20, "the mysql run never started its step") {
                    (mysql.stdout + mysql.stderr).contains("step mysql-t2-1")
                }
                let busyDeploy = try lab.inControl(["agents", "deploy", "--lab", lab.labFile], label: "deploy-busy")
                #expect(busyDeploy.wait(seconds: 30) == 1)
                #expect(busyDeploy.stderr.contains("a run is in progress"), "\(busyDeploy.stderr)")
                let busyStatus = try lab.inControl(["agents", "status", "--lab", lab.labFile], label: "status-busy")
                _ = busyStatus.wait(seconds: 30)
                #expect(busyStatus.stdout.contains("busy"), "\(busyStatus.stdout) \(busyStatus.stderr)")
                #expect(mysql.wait(seconds: 90) == 0, "stderr: \(mysql.stderr)")
                let oltp = try jsonLines(mysqlOut + "/samples.jsonl")
                #expect((summaryValue(oltp, "transactions_per_sec", step: "mysql-t2-1") ?? 0) > 10)
                let mysqlRun = try String(contentsOfFile: mysqlOut + "/run.json", encoding: .utf8)
                #expect(mysqlRun.contains("\"sut_data\" : \"198.19.0.2\""), "the queries went over the test link")
                try expectEventually(seconds: 20, "mariadbd outlived the run") {
                    lab.processes(in: "sut").filter { $0.contains("mariadbd") }.isEmpty
                }

                let logsOut = lab.scratch.path + "/agent-logs"
                let logs = try lab.inControl(["agents", "logs", "--lab", lab.labFile, "--out", logsOut], label: "logs")
                #expect(logs.wait(seconds: 30) == 0, "stderr: \(logs.stderr)")
                let sutLog = try jsonLines(logsOut + "/sut/sut.jsonl")
                #expect(sutLog.contains { $0["event"] as? String == "step.started" })

                let stop = try lab.inControl(["agents", "stop", "--lab", lab.labFile], label: "stop")
                #expect(stop.wait(seconds: 30) == 0, "stderr: \(stop.stderr)")
                for host in ["sut", "peer"] {
                    let left = lab.processes(in: host).filter { $0.contains("lockstep-agent") }
                    #expect(left.isEmpty, "agents left on \(host): \(left)")
                }
            }
            // The lab is down: no namespace of it is left, and nothing runs from it.
            let list = Process()
            list.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            list.arguments = ["netns", "list"]
            let pipe = Pipe()
            list.standardOutput = pipe
            try list.run()
            list.waitUntilExit()
            let left = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(!left.contains(name), "namespaces left: \(left)")
            #expect(processes(mentioning: "/tmp/lockstep-lab/\(name)/").isEmpty, "sshd left running")
        }

        @Test func sshFailuresAreOneClearLineEach() throws {
            let lab = try NamespaceLab(prefix: "ssh", startAgents: false)
            let text = try String(contentsOfFile: lab.labFile, encoding: .utf8)
            let state = URL(fileURLWithPath: lab.labFile).deletingLastPathComponent().path

            // A host key that does not match known_hosts.
            let wrongKnown = lab.scratch.path + "/known_hosts"
            let real = try String(contentsOfFile: state + "/known_hosts", encoding: .utf8)
            let lines = real.split(separator: "\n")
            // Swap the two hosts' keys: each address now claims the other's key.
            let keys = lines.map { $0.split(separator: " ", maxSplits: 1)[1] }
            let swapped = zip(lines, keys.reversed()).map { "\($0.split(separator: " ")[0]) \($1)" }
            try swapped.joined(separator: "\n").write(toFile: wrongKnown, atomically: true, encoding: .utf8)
            let mismatch = lab.scratch.path + "/mismatch.yaml"
            try text.replacingOccurrences(of: state + "/known_hosts", with: wrongKnown)
                .write(toFile: mismatch, atomically: true, encoding: .utf8)
            try expectOneError(
                lab, ["agents", "stop", "--lab", mismatch], says: "HOST KEY MISMATCH", label: "mismatch")

            // A key the hosts do not authorize.
            let stranger = lab.scratch.path + "/stranger"
            let keygen = try ChildProcess(
                "/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", stranger], scratch: lab.scratch,
                label: "keygen")
            #expect(keygen.wait(seconds: 10) == 0)
            let unauthorized = lab.scratch.path + "/unauthorized.yaml"
            try text.replacingOccurrences(of: state + "/id_ed25519", with: stranger)
                .write(toFile: unauthorized, atomically: true, encoding: .utf8)
            try expectOneError(lab, ["agents", "stop", "--lab", unauthorized], says: "ssh-auth", label: "unauthorized")

            // An empty known_hosts: refused until --accept-new records both keys; then plain use works.
            let freshKnown = lab.scratch.path + "/fresh_known_hosts"
            try "".write(toFile: freshKnown, atomically: true, encoding: .utf8)
            let fresh = lab.scratch.path + "/fresh.yaml"
            try text.replacingOccurrences(of: state + "/known_hosts", with: freshKnown)
                .write(toFile: fresh, atomically: true, encoding: .utf8)
            try expectOneError(lab, ["agents", "stop", "--lab", fresh], says: "--accept-new", label: "unknown")
            let accept = try lab.inControl(["agents", "stop", "--lab", fresh, "--accept-new"], label: "accept-new")
            #expect(accept.wait(seconds: 30) == 0, "stderr: \(accept.stderr)")
            let recorded = try String(contentsOfFile: freshKnown, encoding: .utf8)
            #expect(recorded.split(separator: "\n").count == 2, "known_hosts after --accept-new: \(recorded)")
            let known = try lab.inControl(["agents", "stop", "--lab", fresh], label: "known")
            #expect(known.wait(seconds: 30) == 0, "stderr: \(known.stderr)")

            // sshd stopped on the SUT.
            let pid = try #require(
                Int32(
                    try String(contentsOfFile: state + "/sshd_sut.pid", encoding: .utf8)
                        .trimmingCharacters(in: .whitespacesAndNewlines)))
            kill(pid, SIGTERM)
            Thread.sleep(forTimeInterval: 0.3)
            try expectOneError(
                lab, ["agents", "deploy", "--lab", lab.labFile], says: "cannot reach SSH", label: "down")
            #expect(lab.processes(in: "peer").allSatisfy { !$0.contains("lockstep-agent") }, "nothing left running")
        }

        func expectOneError(_ lab: NamespaceLab, _ arguments: [String], says: String, label: String) throws {
            let started = Date()
            let child = try lab.inControl(arguments, label: label)
            let status = try #require(child.wait(seconds: 30), "\(label): still running after 30 s")
            #expect(status == 1)
            #expect(Date().timeIntervalSince(started) < 15, "\(label) took \(Date().timeIntervalSince(started)) s")
            let lines = child.stderr.split(separator: "\n").filter { $0.hasPrefix("lockstep: error:") }
            #expect(lines.count == 1, "\(label): \(child.stderr)")
            #expect(lines.first?.contains(says) == true, "\(label): \(child.stderr)")
        }
    }
}
