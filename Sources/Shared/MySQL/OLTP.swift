/// sysbench's OLTP schema, value shapes and statements, shared by the SUT (which loads the tables)
/// and the peer (which runs the transactions).
package enum OLTP {
    /// `sbtestN`.
    package static func table(_ n: Int) -> String { "sbtest\(n)" }

    /// sysbench's table definition (the secondary index on `k` is added after loading).
    package static func createTable(_ n: Int) -> String {
        "CREATE TABLE \(table(n)) (id INTEGER NOT NULL AUTO_INCREMENT, k INTEGER DEFAULT '0' NOT NULL, "
            + "c CHAR(120) DEFAULT '' NOT NULL, pad CHAR(60) DEFAULT '' NOT NULL, PRIMARY KEY (id)) ENGINE=InnoDB"
    }

    /// The secondary index sysbench creates once the rows are in.
    package static func createIndex(_ n: Int) -> String { "CREATE INDEX k_\(n) ON \(table(n))(k)" }

    /// Length of `c`: ten groups of eleven digits joined by dashes.
    package static let cLength = 119
    /// Length of `pad`: five groups of eleven digits joined by dashes.
    package static let padLength = 59

    /// Appends sysbench's `###########-###########-...` value of `length` characters (digits
    /// random, a dash after every eleven).
    @inline(__always)
    package static func appendDigits(_ length: Int, _ rng: inout SplitMix64, to out: inout [UInt8]) {
        var bits: UInt64 = 0
        var left = 0
        for i in 0..<length {
            if i % 12 == 11 {
                out.append(UInt8(ascii: "-"))
                continue
            }
            if left == 0 {
                bits = rng.next()
                left = 16
            }
            // 4 random bits -> a digit (0...9); the small bias toward 0...5 is as harmless as sysbench's own.
            out.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: (bits & 0xF) % 10))
            bits >>= 4
            left -= 1
        }
    }

    /// One multi-row INSERT of rows `first...last` into table `n`: sysbench's loading statement.
    package static func insertBatch(_ n: Int, rows: ClosedRange<Int>, tableSize: Int, _ rng: inout SplitMix64)
        -> [UInt8]
    {
        var out: [UInt8] = []
        out.reserveCapacity(rows.count * 200 + 64)
        out += Array("INSERT INTO \(table(n)) (id, k, c, pad) VALUES ".utf8)
        for id in rows {
            if id != rows.lowerBound { out.append(UInt8(ascii: ",")) }
            out += Array("(\(id),\(1 + Int(rng.next() % UInt64(tableSize))),'".utf8)
            appendDigits(cLength, &rng, to: &out)
            out += Array("','".utf8)
            appendDigits(padLength, &rng, to: &out)
            out += Array("')".utf8)
        }
        return out
    }

    /// The statements of a transaction, in sysbench's order.
    package enum Statement: Int, CaseIterable, Sendable {
        case begin, pointSelect, simpleRange, sumRange, orderRange, distinctRange, indexUpdate, nonIndexUpdate,
            delete, insert, commit

        /// Whether it belongs to `oltp_read_only` too.
        package var isRead: Bool {
            !(self == .indexUpdate || self == .nonIndexUpdate || self == .delete || self == .insert)
        }

        /// Its SQL with `?` placeholders, for table `n`.
        package func sql(_ n: Int) -> String {
            let t = OLTP.table(n)
            switch self {
            case .begin: return "BEGIN"
            case .commit: return "COMMIT"
            case .pointSelect: return "SELECT c FROM \(t) WHERE id=?"
            case .simpleRange: return "SELECT c FROM \(t) WHERE id BETWEEN ? AND ?"
            case .sumRange: return "SELECT SUM(k) FROM \(t) WHERE id BETWEEN ? AND ?"
            case .orderRange: return "SELECT c FROM \(t) WHERE id BETWEEN ? AND ? ORDER BY c"
            case .distinctRange: return "SELECT DISTINCT c FROM \(t) WHERE id BETWEEN ? AND ? ORDER BY c"
            case .indexUpdate: return "UPDATE \(t) SET k=k+1 WHERE id=?"
            case .nonIndexUpdate: return "UPDATE \(t) SET c=? WHERE id=?"
            case .delete: return "DELETE FROM \(t) WHERE id=?"
            case .insert: return "INSERT INTO \(t) (id, k, c, pad) VALUES (?, ?, ?, ?)"
            }
        }

        /// The binary types of its parameters.
        package var parameterTypes: [UInt8] {
            switch self {
            case .begin, .commit: []
            case .pointSelect, .indexUpdate, .delete: [MySQLType.long]
            case .simpleRange, .sumRange, .orderRange, .distinctRange: [MySQLType.long, MySQLType.long]
            case .nonIndexUpdate: [MySQLType.string, MySQLType.long]
            case .insert: [MySQLType.long, MySQLType.long, MySQLType.string, MySQLType.string]
            }
        }

        /// Whether its answer is a result set.
        package var returnsRows: Bool { self == .pointSelect || (rawValue >= 2 && rawValue <= 5) }
    }

    /// The statements of one transaction of `mode`, with repetitions (10 point selects).
    package static func script(_ mode: MySQLMode) -> [Statement] {
        var out: [Statement] = [.begin]
        out += Array(repeating: .pointSelect, count: MySQLSpec.pointSelects)
        out += [.simpleRange, .sumRange, .orderRange, .distinctRange]
        if mode == .readWrite { out += [.indexUpdate, .nonIndexUpdate, .delete, .insert] }
        out.append(.commit)
        return out
    }
}

/// Draws row ids in `1...size` as sysbench does.
package struct OLTPIDs {
    package let size: Int
    package let distribution: MySQLDistribution

    package init(size: Int, distribution: MySQLDistribution) {
        self.size = size
        self.distribution = distribution
    }

    /// Share of draws that go to the special ids (sysbench's `--rand-spec-res`).
    package static let specialResult = 75.0
    /// Share of ids that are special (sysbench's `--rand-spec-pct`).
    package static let specialPercent = 1.0
    /// Uniform draws averaged for the rest (sysbench's `--rand-spec-iter`).
    package static let specialIterations = 12

    /// A uniform double in [0, 1).
    @inline(__always)
    private static func unit(_ rng: inout SplitMix64) -> Double { Double(rng.next() >> 11) * 0x1p-53 }

    /// The next id.
    @inline(__always)
    package func next(_ rng: inout SplitMix64) -> Int {
        switch distribution {
        case .uniform:
            return 1 + Int(rng.next() % UInt64(size))
        case .special:
            // sysbench 1.0's sb_rand_special over [1, size]: one uniform draw u over a range stretched
            // to 100 / (100 - res) times the span; the first (100 - res)% of it gives a bell (the mean
            // of 12 uniform draws over the span), the rest maps u into a window of pct% of the ids
            // centred on the middle of the table (u >= 0.25 there, so, as in sysbench, the hot ids
            // are the upper three quarters of that window).
            let span = Double(size - 1)
            let u = Self.unit(&rng)
            if u * span * 100 / (100 - Self.specialResult) < span {
                var sum = 0.0
                for _ in 0..<Self.specialIterations { sum += Self.unit(&rng) }
                return 1 + Int(sum * span / Double(Self.specialIterations))
            }
            let window = span * Self.specialPercent / 100
            return 1 + Int(u * (window + 1) + span / 2 - span * Self.specialPercent / 200)
        }
    }
}
