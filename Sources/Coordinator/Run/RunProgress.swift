import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// What the user sees while a run goes: on a terminal, one line updated in place with the current
/// step, its rate so far (from the interval samples the agents stream), steps done of total, the
/// elapsed time and the estimated time left; not on a terminal, one line per event (a step begun, a
/// step finished); with `--quiet`, nothing. Lines go to stderr, so stdout keeps only the tables.
final class RunProgress: @unchecked Sendable {
    enum Style: Sendable {
        case terminal
        case lines
        case quiet
    }

    let style: Style
    private let lock = NSLock()
    private let begun = MonotonicClock.now()
    private var step = ""
    private var rate = ""
    /// The unit of the current step's per-second rate (its workload's interval metric).
    private var rateUnit = "transactions/s"
    private var done = 0
    private var total = ""
    private var remainingNs: Int64 = 0
    private var stepBegunNs: Int64 = 0
    private var stepLengthNs: Int64 = 0

    init(style: Style) { self.style = style }

    /// Terminal style when stderr is a terminal, else lines; `quiet` for neither.
    static func forStandardError(quiet: Bool) -> RunProgress {
        RunProgress(style: quiet ? .quiet : isatty(2) == 1 ? .terminal : .lines)
    }

    /// An event line (a connection, a placed guest, a step begun or finished).
    func say(_ line: String) {
        lock.withLock {
            switch style {
            case .quiet: return
            case .lines: write(line + "\n")
            case .terminal: write("\r\u{1B}[K" + line + "\n" + statusLine())
            }
        }
    }

    /// A step begins: `done` steps are finished, `total` says how many there are (`12` or `12-40`),
    /// `remainingNs` estimates the time the rest of the run takes after this step.
    func began(step id: String, done: Int, total: String, lengthNs: Int64, remainingNs: Int64, rateUnit: String) {
        lock.withLock {
            step = id
            rate = ""
            self.rateUnit = rateUnit
            self.done = done
            self.total = total
            stepBegunNs = MonotonicClock.now()
            stepLengthNs = lengthNs
            self.remainingNs = remainingNs
            redraw()
        }
    }

    /// An interval sample from a load generator (or a bulk receiver): the step's rate so far.
    func interval(_ sample: IntervalSample) {
        lock.withLock {
            if let gbps = sample.gbps {
                rate = String(format: "%.2f Gbit/s", gbps)
            } else {
                rate = String(format: "%.0f ", sample.transactionsPerSecond) + rateUnit
            }
            redraw()
        }
    }

    /// The run ended: clear the status line.
    func finish() {
        lock.withLock { if style == .terminal { write("\r\u{1B}[K") } }
    }

    private func redraw() {
        if style == .terminal { write("\r\u{1B}[K" + statusLine()) }
    }

    private func statusLine() -> String {
        guard !step.isEmpty else { return "" }
        let now = MonotonicClock.now()
        let left = max(stepLengthNs - (now - stepBegunNs), 0) + remainingNs
        return "step \(step) (\(done + 1) of \(total))\(rate.isEmpty ? "" : " \(rate)") | elapsed "
            + "\(Self.clock(now - begun)) | ETA \(Self.clock(left))"
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

    /// `1h02m03s`, `4m05s`, `6s`.
    static func clock(_ ns: Int64) -> String {
        let s = Int(ns / 1_000_000_000)
        if s >= 3600 { return String(format: "%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }
}
