import Shared

extension IntervalSample {
    /// The interval's length in seconds (at least a nanosecond).
    var seconds: Double { Double(max(lengthNs, 1)) / 1e9 }

    /// Goodput in Gbit/s of a bulk interval (`nil` for one that counts transactions).
    var gbps: Double? { bytes.map { Double($0) * 8 / seconds / 1e9 } }

    /// Transactions (or operations) per second.
    var transactionsPerSecond: Double { Double(transactions) / seconds }

    /// The mean latency of the interval's transactions in microseconds; `nil` where the engine does
    /// not time them or none completed.
    var meanLatencyUs: Double? {
        guard let latencyNs, transactions > 0 else { return nil }
        return Double(latencyNs) / Double(transactions) / 1000
    }

    /// The interval's rate and its unit: Gbit/s for bulk, else transactions per second in `unit`
    /// (the step's workload's rate unit).
    func rate(unit: String) -> (value: Double, unit: String) {
        gbps.map { ($0, "Gbit/s") } ?? (transactionsPerSecond, unit)
    }
}
