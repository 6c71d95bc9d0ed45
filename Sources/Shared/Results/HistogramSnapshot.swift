import Histogram

/// A latency histogram in transferable form: the recorded values (highest equivalent value of
/// each non-empty bucket) and their counts. Rebuilding it gives the same buckets, so snapshots
/// from many flows and hosts merge exactly.
package struct HistogramSnapshot: Codable, Equatable, Sendable {
    /// Highest value the histogram tracks, nanoseconds.
    package var highestTrackableValue: UInt64
    /// Highest equivalent value of each non-empty bucket, ascending.
    package var values: [UInt64]
    /// Count of each bucket in `values`.
    package var counts: [UInt64]

    /// The highest latency the engines track: 60 s in nanoseconds.
    package static let highestLatencyNs: UInt64 = 60_000_000_000

    /// A new empty latency histogram in nanoseconds, 3 significant digits.
    package static func makeLatencyHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(
            lowestDiscernibleValue: 1, highestTrackableValue: highestLatencyNs,
            numberOfSignificantValueDigits: .three)
    }

    package init(_ histogram: Histogram<UInt64>) {
        highestTrackableValue = histogram.highestTrackableValue
        values = []
        counts = []
        for item in histogram.recordedValues() {
            values.append(item.value)
            counts.append(UInt64(item.count))
        }
    }

    /// The histogram this snapshot was taken of.
    package func histogram() -> Histogram<UInt64> {
        var h = Histogram<UInt64>(
            lowestDiscernibleValue: 1, highestTrackableValue: highestTrackableValue,
            numberOfSignificantValueDigits: .three)
        for (value, count) in zip(values, counts) { h.record(value, count: count) }
        return h
    }
}

extension HistogramSnapshot {
    /// The histograms of several flows or hosts as one (exact: the buckets are the same).
    package static func merged(_ snapshots: [HistogramSnapshot]) -> HistogramSnapshot {
        var histogram = makeLatencyHistogram()
        for snapshot in snapshots {
            for (value, count) in zip(snapshot.values, snapshot.counts) { histogram.record(value, count: count) }
        }
        return HistogramSnapshot(histogram)
    }
}
