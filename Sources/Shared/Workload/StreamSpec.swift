/// Which way bulk data flows, seen from the SUT.
package enum StreamDirection: String, Codable, Sendable, CaseIterable {
    /// The SUT transmits, the peer receives.
    case sutTx = "sut-tx"
    /// The peer transmits, the SUT receives.
    case sutRx = "sut-rx"
}

/// A nuttcp-style bulk transfer: `streams` TCP connections from the peer to the SUT's listener,
/// data flowing one way for the window; the receiver counts goodput.
package struct StreamSpec: WorkloadSpec {
    /// Which way the data flows.
    package var direction: StreamDirection
    /// Parallel TCP streams (nuttcp: 1).
    package var streams: Int
    /// Bytes per send/recv call (nuttcp's default buffer: 64 KiB).
    package var bufferSize: Int
    /// SO_SNDBUF / SO_RCVBUF in bytes; `nil` leaves the kernel's autotuning alone.
    package var socketBuffer: Int?
    /// Sender rate limit in bits per second per stream; `nil` for as fast as possible.
    package var rateBitsPerSecond: Int64?

    package init(
        direction: StreamDirection = .sutTx, streams: Int = 1, bufferSize: Int = 65_536, socketBuffer: Int? = nil,
        rateBitsPerSecond: Int64? = nil
    ) {
        self.direction = direction
        self.streams = streams
        self.bufferSize = bufferSize
        self.socketBuffer = socketBuffer
        self.rateBitsPerSecond = rateBitsPerSecond
    }

    /// Checks the parameters; one line per problem, empty when valid.
    package func problems() -> [String] {
        var out: [String] = []
        if !(1...64).contains(streams) { out.append("streams must be 1...64, got \(streams)") }
        if !(1...(64 << 20)).contains(bufferSize) { out.append("buffer must be 1 B...64 MiB, got \(bufferSize)") }
        if let b = socketBuffer, !(4096...(256 << 20)).contains(b) {
            out.append("socket buffer must be 4 KiB...256 MiB, got \(b)")
        }
        if let r = rateBitsPerSecond, r <= 0 { out.append("rate must be positive") }
        return out
    }

    /// Whether the SUT side sends.
    package var sutSends: Bool { direction == .sutTx }
}

extension StreamSpec {
    package static let kind = "stream"

    package var labels: [String: String] {
        ["direction": direction.rawValue, "streams": String(streams), "buffer_bytes": String(bufferSize)]
    }

    package var stepName: String { "stream-\(direction.rawValue)" }

    package var summary: String { "bulk \(direction.rawValue), \(streams) stream(s), \(bufferSize)-byte buffers" }

}
