import Histogram
import Shared
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What MySQL workers count inside the window.
struct MySQLTally: LoadTally {
    var histogram = HistogramSnapshot.makeLatencyHistogram()
    var transactions: UInt64 = 0
    var counts = MySQLWorker.Counts()

    mutating func add(_ other: MySQLTally) {
        histogram.add(other.histogram)
        transactions &+= other.transactions
        counts += other.counts
    }
}

/// One load-generator thread of the MySQL sweep: one connection, sysbench's OLTP transaction back
/// to back. Requests are built in a reused buffer (prepared statements in the binary protocol, or
/// text queries) and answers are only scanned, so a transaction allocates nothing.
final class MySQLWorker: LoadWorker, @unchecked Sendable {
    private let spec: MySQLSpec
    private let target: Endpoint
    private let credentials: MySQLCredentials
    private let script: [OLTP.Statement]
    private let ids: OLTPIDs
    private var connection: MySQLConnection
    private var rng: SplitMix64
    /// Prepared mode: per table, per statement, the COM_STMT_EXECUTE head (id, types).
    private var heads: [[[UInt8]]] = []
    /// Text mode: per table, per statement, the SQL split at its placeholders.
    private let templates: [[[[UInt8]]]]
    private var out: [UInt8] = []
    private var parts: [[UInt8]] = []
    private var part = 0
    private let progress = ProgressCounter()
    private let committed = ProgressCounter()
    /// Every committed transaction's latency so far, added up (for the per-second mean).
    private let latencySum = ProgressCounter()
    private let stalled = StopFlag()
    /// The current connection's descriptor, for the watchdog.
    private let socket = Atomic<Int32>(-1)
    private let exited = StopFlag()

    private(set) var histogram = HistogramSnapshot.makeLatencyHistogram()
    /// Transactions committed in the window.
    private(set) var transactions: UInt64 = 0
    /// Running totals over the whole step (warm-up included).
    private var counts = Counts()
    /// Totals of the transactions that ended in the window.
    private(set) var inWindow = Counts()

    /// What the worker counts.
    struct Counts: Sendable {
        /// Statements answered (BEGIN and COMMIT included, as sysbench counts them).
        var queries: UInt64 = 0
        var rowsRead: UInt64 = 0
        /// Errors the server answered (deadlocks included) and connections lost.
        var errors: UInt64 = 0
        var deadlocks: UInt64 = 0
        var reconnects: UInt64 = 0

        static func - (a: Counts, b: Counts) -> Counts {
            Counts(
                queries: a.queries - b.queries, rowsRead: a.rowsRead - b.rowsRead, errors: a.errors - b.errors,
                deadlocks: a.deadlocks - b.deadlocks, reconnects: a.reconnects - b.reconnects)
        }

        static func += (a: inout Counts, b: Counts) {
            a.queries += b.queries
            a.rowsRead += b.rowsRead
            a.errors += b.errors
            a.deadlocks += b.deadlocks
            a.reconnects += b.reconnects
        }
    }
    private(set) var cpuNs: Int64 = 0
    /// Latencies in send order and send gaps for the validity checks (made when the thread starts).
    private(set) var recorder: LatencySeriesRecorder?
    private(set) var stoppedNs: Int64 = 0
    private(set) var error: WireError?
    private var late: UInt64 = 0
    /// Open loop: the window's transactions that started more than ``OpenLoop/lateNs`` after their
    /// intended time, or not at all.
    var lateRequests: UInt64? { spec.rate == nil ? nil : late }

    /// Connects, logs in and prepares the statements.
    init(spec: MySQLSpec, target: Endpoint, seed: UInt64) throws {
        self.spec = spec
        self.target = target
        credentials = MySQLCredentials(user: spec.user, password: spec.password, database: spec.database)
        script = OLTP.script(spec.mode)
        ids = OLTPIDs(size: spec.tableSize, distribution: spec.distribution)
        rng = SplitMix64(seed: seed)
        templates = (1...spec.tables).map { t in
            OLTP.Statement.allCases.map { s in
                s.sql(t).split(separator: "?", omittingEmptySubsequences: false).map { Array($0.utf8) }
            }
        }
        connection = try MySQLConnection(target, credentials, watched: true)
        socket.store(connection.descriptor, ordering: .relaxed)
        try prepareStatements()
        out.reserveCapacity(4096)
    }

    private func prepareStatements() throws {
        guard spec.preparedStatements else { return }
        heads = try (1...spec.tables).map { t in
            try OLTP.Statement.allCases.map { s in
                let (prepared, _) = try connection.prepare(s.sql(t))
                var head: [UInt8] = []
                MySQLCommand.executeHead(prepared.statementID, types: s.parameterTypes, to: &head)
                return head
            }
        }
    }

    /// Transactions committed so far (for interval samples).
    var sampleCounters: IntervalSampler.Counters {
        IntervalSampler.Counters(transactions: committed.current, latencyNs: latencySum.current)
    }
    var tally: MySQLTally { MySQLTally(histogram: histogram, transactions: transactions, counts: inWindow) }
    var progressCount: UInt64 { progress.current }
    var hasExited: Bool { exited.isRaised }

    func markStalled() {
        stalled.raise()
        // The watchdog's thread: only the descriptor is shared (the connection may be replaced).
        _ = shutdown(socket.load(ordering: .relaxed), Int32(SHUT_RDWR))
    }

    /// Runs transactions from `startNs` until `windowEnd` (or `stop`); latency and CPU count inside
    /// `windowStart...windowEnd`. A failure raises `stop` for every worker.
    func run(startNs: Int64, windowStart: Int64, windowEnd: Int64, index: Int, stop: StopFlag) {
        defer {
            stoppedNs = MonotonicClock.now()
            exited.raise()
        }
        MonotonicClock.sleepThenSpin(until: startNs, spinNs: 0)
        let recorder = LatencySeriesRecorder(windowStart: windowStart)
        self.recorder = recorder
        var cpuStart: Int64?
        // Open loop: each transaction starts at its intended time (the rate split over the threads),
        // and its latency counts from that time.
        var pacer = OpenLoopPacer(
            rate: spec.rate.map { $0 / Double(spec.threads) }, startNs: startNs, index: index, count: spec.threads)
        defer {
            while let next = pacer?.nextNs, next < windowEnd {
                if next >= windowStart { late += 1 }
                pacer!.advance()
            }
        }
        while !stop.isRaised {
            var from: Int64?
            if pacer != nil {
                guard pacer!.nextNs < windowEnd, let intended = pacer!.awaitNext(stop: stop) else { break }
                from = intended
            }
            let now = MonotonicClock.now()
            let begun = from ?? now
            if let from, from >= windowStart, OpenLoopPacer.isLate(intendedNs: from, sentNs: now) { late += 1 }
            if from != nil { recorder.sent(now) }
            if now >= windowEnd { break }
            let before = counts
            if cpuStart == nil && now >= windowStart { cpuStart = EngineThread.cpuNs() }
            do {
                guard try transactionWithRetries(until: windowEnd, stop: stop) else { break }
            } catch let failure as WireError {
                fail(failure, stop)
                break
            } catch {
                fail(WireError(.serverProtocol, "MySQL at \(target): \(error)"), stop)
                break
            }
            let done = MonotonicClock.now()
            if done >= windowStart && done <= windowEnd {
                transactions += 1
                inWindow += counts - before
                histogram.record(UInt64(max(done - begun, 1)))
                recorder.record(sentNs: begun, doneNs: done)
            }
            latencySum.add(UInt64(max(done - begun, 1)))
            committed.add(1)
        }
        if let cpuStart { cpuNs = EngineThread.cpuNs() - cpuStart }
    }

    private func fail(_ failure: WireError, _ stopOthers: StopFlag) {
        if stalled.isRaised {
            error = WireError(
                .dataPlaneStalled, "MySQL at \(target) answered nothing for too long (a hung server or a cut link)")
        } else {
            error = failure
        }
        stopOthers.raise()
    }

    /// One transaction; rolled back and run again after a deadlock or lock timeout (as sysbench
    /// does); a lost connection is opened again once per attempt. Returns whether it committed
    /// (`false`: the step ended while it was being retried).
    private func transactionWithRetries(until deadline: Int64, stop: StopFlag) throws -> Bool {
        while true {
            do {
                try transaction()
                return true
            } catch let serverError as MySQLServerError {
                counts.errors += 1
                guard serverError.isRetryable else {
                    throw WireError(.serverProtocol, "MySQL at \(target): \(serverError)")
                }
                if serverError.isDeadlock { counts.deadlocks += 1 }
                try rollback()
            } catch let failure as WireError where failure.code == .serverFailed && !stalled.isRaised {
                counts.errors += 1
                counts.reconnects += 1
                connection = try MySQLConnection(target, credentials, watched: true)
                socket.store(connection.descriptor, ordering: .relaxed)
                try prepareStatements()
            }
            if stop.isRaised || MonotonicClock.now() >= deadline { return false }
        }
    }

    private func rollback() throws {
        let reader = try connection.roundTrip(
            MySQLPacket.framed(MySQLCommand.query("ROLLBACK"), sequence: 0), expect: .query, decode: false)
        if let error = reader.error { throw error }
    }

    private func transaction() throws {
        let tables = spec.tables
        for statement in script {
            let t = tables == 1 ? 1 : 1 + Int(rng.next() % UInt64(tables))
            begin(statement, t)
            switch statement {
            case .begin, .commit:
                break
            case .pointSelect, .indexUpdate, .delete:
                int(ids.next(&rng))
            case .simpleRange, .sumRange, .orderRange, .distinctRange:
                let low = ids.next(&rng)
                int(low)
                int(low + MySQLSpec.rangeSize - 1)
            case .nonIndexUpdate:
                digits(OLTP.cLength)
                int(ids.next(&rng))
            case .insert:
                // sysbench inserts the id its delete just removed.
                int(lastDeleted)
                int(ids.next(&rng))
                digits(OLTP.cLength)
                digits(OLTP.padLength)
            }
            if statement == .delete { lastDeleted = lastInt }
            counts.rowsRead += UInt64(try finish())
        }
    }

    private var lastInt = 0
    private var lastDeleted = 1

    @inline(__always)
    private func begin(_ statement: OLTP.Statement, _ table: Int) {
        out.removeAll(keepingCapacity: true)
        out += [0, 0, 0, 0]
        if spec.preparedStatements {
            out += heads[table - 1][statement.rawValue]
        } else {
            parts = templates[table - 1][statement.rawValue]
            out.append(MySQLCommand.query)
            out += parts[0]
            part = 1
        }
    }

    @inline(__always)
    private func int(_ value: Int) {
        lastInt = value
        if spec.preparedStatements {
            MySQLWriter.fixed(UInt64(UInt32(truncatingIfNeeded: value)), 4, to: &out)
        } else {
            appendDecimal(value)
            out += parts[part]
            part += 1
        }
    }

    @inline(__always)
    private func digits(_ length: Int) {
        if spec.preparedStatements {
            out.append(UInt8(length))
            OLTP.appendDigits(length, &rng, to: &out)
        } else {
            out.append(UInt8(ascii: "'"))
            OLTP.appendDigits(length, &rng, to: &out)
            out.append(UInt8(ascii: "'"))
            out += parts[part]
            part += 1
        }
    }

    @inline(__always)
    private func appendDecimal(_ value: Int) {
        var v = value
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { digits in
            var i = digits.count
            repeat {
                i -= 1
                digits[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            } while v > 0
            out.append(contentsOf: digits[i...])
        }
    }

    @inline(__always)
    private func finish() throws -> Int {
        MySQLCommand.endPacket(&out, at: 0)
        let reader = try connection.roundTrip(
            out, expect: spec.preparedStatements ? .execute : .query, decode: false)
        counts.queries += 1
        progress.publish(counts.queries)
        if let error = reader.error { throw error }
        return reader.result.rowCount
    }
}
