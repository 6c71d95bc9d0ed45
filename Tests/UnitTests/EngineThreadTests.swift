import Foundation
import Testing

@testable import Agent

/// Engine threads nobody joins are detached: a finished engine's stack is freed, so an agent that
/// runs steps all night does not keep one stack per step.
@Suite struct EngineThreadTests {
    /// The process's virtual size, KiB (`VmSize`): a finished thread that is neither joined nor
    /// detached keeps its 8 MiB stack mapped.
    static func virtualKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmSize:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    @Test func threadsNobodyJoinsLeaveNoStackBehind() {
        let done = ProgressCounter()
        // Warm glibc's stack cache first, then count.
        for _ in 0..<8 { _ = EngineThread(name: "warm") { done.increment() } }
        while done.current < 8 { usleep(1000) }
        usleep(50_000)
        let before = Self.virtualKiB()
        for _ in 0..<1000 {
            _ = EngineThread(name: "discarded") { done.increment() }
        }
        while done.current < 1008 { usleep(1000) }
        usleep(100_000)
        // Undetached, each would keep its stack: 1000 x 8 MiB = 8 GiB more; detached, glibc caches a
        // few. The whole process is measured while other suites run in parallel (their threads and
        // malloc arenas of 64 MiB each, up to 16 on two cores: CI once saw 256 MiB), so the bound is
        // far from both.
        let grown = Self.virtualKiB() - before
        #expect(grown < 2 * 1024 * 1024, "virtual size grew by \(grown / 1024) MiB")
    }

    @Test func aJoinedThreadIsJoinedOnce() {
        let ran = ProgressCounter()
        let thread = EngineThread(name: "joined") { ran.increment() }
        thread.join()
        thread.join()
        #expect(ran.current == 1)
    }
}
