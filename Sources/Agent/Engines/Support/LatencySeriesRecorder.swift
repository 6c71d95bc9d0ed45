import CLockstepSys
import Shared

/// Builds one worker thread's ``LatencySeries`` on that thread: one compare per completed request
/// in the window, and an append once per tick (a millisecond, doubling whenever the series is full).
/// Also keeps an open loop's first send gaps for the arrivals check, and the CPUs the thread was
/// seen on at those ticks (where the generator really ran).
final class LatencySeriesRecorder {
    private let windowStart: Int64
    private var tickNs: Int64
    /// The next tick without a sample.
    private var nextTick: Int64
    private var values: [Float] = []
    private let capacity: Int
    private var lastSend: Int64 = 0
    private var gaps: [Float] = []
    /// CPUs 0...63 the thread was seen on at a tick, as bits.
    private var cpuMask: UInt64 = 0

    /// A recorder for the window that starts at `windowStart`, ticking every `tickNs`, keeping at
    /// most `capacity` samples.
    init(windowStart: Int64, tickNs: Int64 = 1_000_000, capacity: Int = 8192) {
        self.windowStart = windowStart
        self.tickNs = tickNs
        self.capacity = max(capacity, 2)
        nextTick = windowStart
        values.reserveCapacity(self.capacity)
    }

    /// A request of the window sent at `sentNs` was answered at `doneNs` (completion order).
    @inline(__always)
    func record(sentNs: Int64, doneNs: Int64) {
        if sentNs >= nextTick { fill(upTo: sentNs, doneNs: doneNs) }
    }

    /// An open-loop request of the window left at `sentNs`.
    @inline(__always)
    func sent(_ sentNs: Int64) {
        if gaps.count < LoadThreads.maxGaps && sentNs >= windowStart {
            if lastSend != 0 { gaps.append(Float(sentNs - lastSend) / 1e3) }
            lastSend = sentNs
        }
    }

    /// Every tick up to `sentNs` gets the wait from it to `doneNs`.
    private func fill(upTo sentNs: Int64, doneNs: Int64) {
        let cpu = lockstep_current_cpu()
        if cpu >= 0 && cpu < 64 { cpuMask |= 1 << UInt64(cpu) }
        while nextTick <= sentNs {
            if values.count == capacity { halve() }
            values.append(Float(max(doneNs - nextTick, 0)) / 1e3)
            nextTick += tickNs
        }
    }

    /// Keeps every other sample (the even ticks) and doubles the tick.
    private func halve() {
        values = stride(from: 0, to: values.count, by: 2).map { values[$0] }
        tickNs *= 2
        let k = (nextTick - windowStart + tickNs - 1) / tickNs
        nextTick = windowStart + k * tickNs
    }

    /// The series so far (`nil` when no request of the window completed).
    var series: LatencySeries? { values.isEmpty ? nil : LatencySeries(tickNs: tickNs, valuesUs: values) }
    /// The CPUs the thread was seen on at its ticks, ascending.
    var cpus: [Int] { (0..<64).filter { cpuMask & (1 << UInt64($0)) != 0 } }
    /// The send gaps so far (`nil` when fewer than two requests left in the window).
    var sendGaps: [Float]? { gaps.isEmpty ? nil : gaps }
}
