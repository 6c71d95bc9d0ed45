import ArgumentParser
import Foundation
import Shared

/// `lockstep-agent cpu`: the CPU meter on its own, for a window starting now. Prints the usage as
/// JSON (the same figures a step records), so it can be checked against other tools.
struct MeterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpu", abstract: "Measure this host's system-wide CPU use over a window, as runs do; print JSON.")

    @Option(help: "Length of the window in seconds.")
    var seconds: Double = 1

    @Option(
        help:
            "Start of the window on CLOCK_MONOTONIC in nanoseconds (default: now), to line it up with another reading.")
    var startAtNs: Int64?

    func validate() throws {
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
    }

    func run() throws {
        let start = startAtNs ?? MonotonicClock.now()
        let meter = CPUMeter(startNs: start, endNs: start + Int64(seconds * 1e9))
        MonotonicClock.sleepThenSpin(until: start + Int64(seconds * 1e9) + 1_000_000, spinNs: 0)
        guard let usage = meter.finish() else { throw ExitCode.failure }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(usage), as: UTF8.self))
    }
}
