/// One generator thread's latencies in send order, one per tick of the window, for the
/// independence check (Lancet's Spearman test on consecutive samples).
///
/// The tick `k` (at `windowStart + k * tickNs`) holds the latency of the first request sent at or
/// after it, counted from the tick: while every request of a closed loop is in flight, the ticks that
/// pass are each given the wait a request sent then would have had (HdrHistogram's correction for
/// coordinated omission), so a stalled server shows as the run of long, falling waits it caused.
/// When the series is full every other sample is dropped and the tick doubles.
package struct LatencySeries: Codable, Equatable, Sendable {
    /// Nanoseconds between two samples.
    package var tickNs: Int64
    /// The samples, microseconds, in send order.
    package var valuesUs: [Float]

    package init(tickNs: Int64, valuesUs: [Float]) {
        self.tickNs = tickNs
        self.valuesUs = valuesUs
    }
}

/// The CPU time one process used in a window.
package struct ProcessCPU: Codable, Equatable, Sendable {
    package var pid: Int
    /// `comm`, then the command line's first words.
    package var command: String
    package var cpuSeconds: Double

    package init(pid: Int, command: String, cpuSeconds: Double) {
        self.pid = pid
        self.command = command
        self.cpuSeconds = cpuSeconds
    }
}

/// CPU used during a step's window by processes on the host that were not part of the step (not an
/// agent, a server or guest it started, a container engine or a kernel thread).
package struct OtherProcesses: Codable, Equatable, Sendable {
    /// Their CPU-seconds over the window, added up.
    package var cpuSeconds: Double
    /// The busiest of them, most first (at most five).
    package var top: [ProcessCPU]
    /// The time between the two scans, seconds (they bracket the window: a scan at its edges would
    /// delay the step's threads).
    package var seconds: Double?

    package init(cpuSeconds: Double, top: [ProcessCPU], seconds: Double? = nil) {
        self.cpuSeconds = cpuSeconds
        self.top = top
        self.seconds = seconds
    }
}
