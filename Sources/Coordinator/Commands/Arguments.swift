import ArgumentParser
import Foundation
import Shared

/// A duration argument: `10s`, `500ms`, `250us`, `2m`, or plain seconds (`1.5`).
struct DurationArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
    var nanoseconds: Int64

    init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    init?(argument: String) {
        let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("ns", 1), ("s", 1e9), ("m", 60e9)]
        let text = argument.trimmingCharacters(in: .whitespaces)
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let v = Double(text.dropLast(suffix.count)), v.isFinite else { return nil }
            nanoseconds = Int64(v * scale)
            return
        }
        guard let v = Double(text), v.isFinite else { return nil }
        nanoseconds = Int64(v * 1e9)
    }

    var description: String { "\(Double(nanoseconds) / 1e9)s" }
}

extension Endpoint: ExpressibleByArgument {
    package init?(argument: String) { self.init(parsing: argument) }
}

extension RRProtocol: ExpressibleByArgument {}
