import Foundation
import Shared
import TestSupport
import Testing

@testable import Coordinator

#if canImport(Glibc)
    import Glibc
#endif

/// Bad input at the edges users touch: plan and lab files that are huge, deeply nested or alias
/// bombs, token files that are FIFOs or symlinks to /dev/zero. Each is one line, in bounded time
/// and memory, before anything is read whole or expanded.
@Suite struct EdgeInputTests {
    /// Loads `text` as a plan; the refusal's text and how long it took.
    static func refuse(_ text: String) throws -> (message: String, seconds: Double) {
        let scratch = Scratch()
        let path = scratch.path + "/plan.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let began = Date()
        do {
            _ = try PlanFile.load(path)
        } catch {
            return ("\(error)", Date().timeIntervalSince(began))
        }
        Issue.record("the plan was accepted")
        return ("", 0)
    }

    /// Ten levels of ten aliases each: 10^9 values once expanded.
    static func bomb(inside: Bool) -> String {
        var lines: [String] = []
        if inside {
            lines += [
                "modes: [native]", "experiments:", "  - rr: {protocol: &a [tcp,tcp,tcp,tcp,tcp,tcp,tcp,tcp,tcp,tcp]}",
            ]
            var previous = "a"
            for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
                lines.append(
                    "  - rr: {protocol: &\(name) [\(Array(repeating: "*\(previous)", count: 10).joined(separator: ","))]}"
                )
                previous = name
            }
        } else {
            lines.append("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]")
            var previous = "a"
            for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
                lines.append(
                    "\(name): &\(name) [\(Array(repeating: "*\(previous)", count: 10).joined(separator: ","))]")
                previous = name
            }
            lines += ["modes: [native]", "experiments: [{rr: {protocol: [tcp]}}]"]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test(arguments: [false, true])
    func anAliasBombIsRefusedWithoutExpandingIt(inside: Bool) throws {
        let (message, seconds) = try Self.refuse(Self.bomb(inside: inside))
        #expect(seconds < 3, "took \(seconds) s")
        #expect(!message.contains("\n"))
        #expect(message.contains("more than 100000 values once its aliases are expanded"), "\(message)")
    }

    @Test func deepNestingIsRefusedBeforeTheParserRecurses() throws {
        let flow =
            "modes: [native]\nexperiments: " + String(repeating: "[", count: 100_000)
            + String(repeating: "]", count: 100_000) + "\n"
        #expect(try Self.refuse(flow).message.contains(":2: nested deeper than 64 levels"))
        var block = "modes: [native]\nexperiments:\n"
        for depth in 0..<200 { block += String(repeating: "  ", count: depth + 1) + "- \n" }
        #expect(try Self.refuse(block).message.contains("nested deeper than 64 levels"))
    }

    @Test func aTenMegabytePlanIsRefusedUnread() throws {
        let line = "  - rr: {protocol: tcp}\n"
        let text = "modes: [native]\nexperiments:\n" + String(repeating: line, count: 10_000_000 / line.utf8.count)
        let (message, seconds) = try Self.refuse(text)
        #expect(message.contains("is 9.5 MiB; at most 1.0 MiB is read"), "\(message)")
        #expect(seconds < 3)
    }

    @Test func aTokenFileThatIsAFIFOOrADeviceIsRefusedWithoutBlocking() throws {
        let scratch = Scratch()
        let fifo = scratch.path + "/token.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let zero = scratch.path + "/token.zero"
        try FileManager.default.createSymbolicLink(atPath: zero, withDestinationPath: "/dev/zero")
        for (path, kind) in [(fifo, "a FIFO"), (zero, "a character device"), (scratch.path, "a directory")] {
            let began = Date()
            #expect {
                _ = try Token.load(path: path)
            } throws: { error in
                "\(error)".contains("\(path) is \(kind), not a regular file")
            }
            #expect(Date().timeIntervalSince(began) < 1)
        }
        // A lab file that is a FIFO, too.
        #expect {
            _ = try LabFile.load(fifo)
        } throws: { error in
            "\(error)".contains("is a FIFO")
        }
    }

    /// A pod list whose names and annotations hold YAML's own characters, an IPv6 pod, a pod whose IP
    /// is no address and one whose control port is no port: the lab file written reads back as
    /// exactly the pods it keeps (found by the `pods` fuzz target: names were written unquoted).
    @Test func podsWithYAMLCharactersAndIPv6ReadBackAsThemselves() throws {
        func pod(_ name: String, role: String, ip: String, port: Int = 7470, data: String? = nil) -> [String: Any] {
            [
                "metadata": [
                    "name": name, "labels": ["app.kubernetes.io/name": "lockstep-agent", "lockstep.io/role": role],
                    "annotations": data.map { ["lockstep.io/data-address": $0] } ?? [:],
                ],
                "spec": [
                    "nodeName": name, "containers": [["ports": [["name": "control", "containerPort": port]]]],
                ],
                "status": ["phase": "Running", "podIP": ip],
            ]
        }
        let list: [String: Any] = [
            "items": [
                pod("sut: #1 \"x\"\n\u{2028}é", role: "sut", ip: "10.0.0.1", data: "a: b # c"),
                pod("peer-v6", role: "peer", ip: "fd00::7"),
                pod("peer-bad-ip", role: "peer", ip: "10.0.0.2\nhosts: []"),
                pod("peer-bad-port", role: "peer", ip: "10.0.0.3", port: 70000),
            ]
        ]
        let (agents, skipped) = try KubernetesPods.agents(from: JSONSerialization.data(withJSONObject: list))
        #expect(agents.map(\.name) == ["sut: #1 \"x\"\n\u{2028}é", "peer-v6"])
        #expect(skipped.count == 2 && skipped.contains { $0.contains("is not an IP address") }, "\(skipped)")
        #expect(skipped.contains { $0.contains("control port 70000 is not a port") }, "\(skipped)")
        let text = try KubernetesPods.labFile(agents, tokenFile: "lab: token", source: "pods\n.json")
        let lab = try LabFile.parse(text, path: "/tmp/lab.yaml")
        #expect(lab.hosts.map(\.name) == agents.map(\.name))
        #expect(lab.hosts.map(\.data) == ["a: b # c", "fd00::7"])
        #expect(lab.hosts(.peer).first?.control == Endpoint(host: "fd00::7", port: 7470))
        #expect(lab.tokenFile == "/tmp/lab: token")
    }

    /// Lengths and sizes past Int64 are refused, not trapped on (found by the `plan` fuzz target:
    /// `duration: 99...9s` crashed the plan reader), and a step longer than a week is refused before
    /// its deadlines could overflow.
    @Test func hugeDurationsAndSizesAreOneLine() throws {
        #expect(DurationArgument(argument: "1e30s") == nil)
        #expect(DurationArgument(argument: "9999999999999999999999") == nil)
        #expect(DurationArgument(argument: "1.5s")?.nanoseconds == 1_500_000_000)
        #expect(SizeArgument(argument: "1e30GiB") == nil)
        #expect(SizeArgument(argument: "8MiB")?.bytes == 8 << 20)
        let (message, _) = try Self.refuse("modes: [native]\nexperiments: [{rr: {duration: 8d}}]\n")
        #expect(message.contains("rr: The value '8d' is invalid"), "\(message)")
        let (week, _) = try Self.refuse("modes: [native]\nexperiments: [{rr: {duration: 700000s}}]\n")
        #expect(week.contains("rr: duration must be at most 7 days"), "\(week)")
    }
}
