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
}
