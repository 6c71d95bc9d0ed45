/// An error packet from the server, typed by its code.
package struct MySQLServerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The server's error number (1213: deadlock).
    package var code: UInt16
    /// The five-character SQLSTATE.
    package var sqlState: String
    /// The server's message.
    package var message: String

    package init(code: UInt16, sqlState: String, message: String) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
    }

    /// ER_LOCK_DEADLOCK.
    package static let deadlock: UInt16 = 1213
    /// ER_LOCK_WAIT_TIMEOUT.
    package static let lockWaitTimeout: UInt16 = 1205
    /// ER_CHECKREAD (record changed since last read).
    package static let recordChanged: UInt16 = 1020

    /// A deadlock.
    package var isDeadlock: Bool { code == Self.deadlock }
    /// An error after which sysbench rolls back and runs the transaction again.
    package var isRetryable: Bool { [Self.deadlock, Self.lockWaitTimeout, Self.recordChanged].contains(code) }

    package var description: String { "MySQL error \(code) (\(sqlState)): \(message)" }

    /// Parses an ERR packet payload (starting with 0xFF); `nil` if it is not one or is truncated.
    package static func parse(_ payload: [UInt8]) -> MySQLServerError? {
        guard payload.count >= 3, payload[0] == 0xFF else { return nil }
        let code = UInt16(payload[1]) | UInt16(payload[2]) << 8
        var rest = payload[3...]
        var state = "HY000"
        if rest.first == UInt8(ascii: "#"), rest.count >= 6 {
            state = String(decoding: rest.dropFirst().prefix(5), as: UTF8.self)
            rest = rest.dropFirst(6)
        }
        return MySQLServerError(code: code, sqlState: state, message: String(decoding: rest, as: UTF8.self))
    }
}

/// An OK packet.
package struct MySQLOK: Equatable, Sendable {
    package var affectedRows: UInt64
    package var lastInsertID: UInt64
    package var status: UInt16
    package var warnings: UInt16

    package init(affectedRows: UInt64 = 0, lastInsertID: UInt64 = 0, status: UInt16 = 0, warnings: UInt16 = 0) {
        self.affectedRows = affectedRows
        self.lastInsertID = lastInsertID
        self.status = status
        self.warnings = warnings
    }

    /// Parses an OK packet payload (starting with 0x00 or 0xFE).
    package static func parse(_ payload: [UInt8]) throws -> MySQLOK {
        var r = MySQLReader(payload, at: 1)
        let affected = try r.lenenc("affected rows") ?? 0
        let insertID = try r.lenenc("last insert id") ?? 0
        let status = r.remaining >= 2 ? UInt16(try r.fixed(2)) : 0
        let warnings = r.remaining >= 2 ? UInt16(try r.fixed(2)) : 0
        return MySQLOK(affectedRows: affected, lastInsertID: insertID, status: status, warnings: warnings)
    }
}

/// Column types of the protocol (the ones lockstep sends, and enough to decode binary rows).
package enum MySQLType {
    package static let decimal: UInt8 = 0x00
    package static let tiny: UInt8 = 0x01
    package static let short: UInt8 = 0x02
    package static let long: UInt8 = 0x03
    package static let float: UInt8 = 0x04
    package static let double: UInt8 = 0x05
    package static let null: UInt8 = 0x06
    package static let timestamp: UInt8 = 0x07
    package static let longlong: UInt8 = 0x08
    package static let int24: UInt8 = 0x09
    package static let date: UInt8 = 0x0A
    package static let time: UInt8 = 0x0B
    package static let datetime: UInt8 = 0x0C
    package static let year: UInt8 = 0x0D
    package static let varString: UInt8 = 0xFD
    package static let string: UInt8 = 0xFE

    /// The column flag for unsigned integers.
    package static let unsignedFlag: UInt16 = 0x20
}

/// A column definition (Protocol::ColumnDefinition41), the parts lockstep uses.
package struct MySQLColumn: Equatable, Sendable {
    package var name: String
    package var type: UInt8
    package var flags: UInt16

    package init(name: String, type: UInt8, flags: UInt16 = 0) {
        self.name = name
        self.type = type
        self.flags = flags
    }

    /// Parses a column definition payload.
    package static func parse(_ payload: [UInt8]) throws -> MySQLColumn {
        var r = MySQLReader(payload)
        for field in ["catalog", "schema", "table", "original table"] { _ = try r.lenencBytes(field) }
        let name = String(decoding: try r.lenencBytes("column name") ?? [], as: UTF8.self)
        _ = try r.lenencBytes("original name")
        _ = try r.lenenc("fixed fields length")
        _ = try r.fixed(2, "character set")
        _ = try r.fixed(4, "column length")
        let type = try r.byte("column type")
        let flags = UInt16(try r.fixed(2, "column flags"))
        return MySQLColumn(name: name, type: type, flags: flags)
    }
}

/// One value of a result row or a statement parameter.
package enum MySQLValue: Equatable, Sendable {
    case null
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    /// Strings, decimals, and temporal values (as the server sent them).
    case bytes([UInt8])

    /// A string value.
    package static func text(_ s: String) -> MySQLValue { .bytes(Array(s.utf8)) }

    /// The value as text (numbers formatted), `nil` for NULL.
    package var text: String? {
        switch self {
        case .null: nil
        case .int(let v): String(v)
        case .uint(let v): String(v)
        case .double(let v): String(v)
        case .bytes(let b): String(decoding: b, as: UTF8.self)
        }
    }

    /// The value as an integer, from binary integers or decimal text.
    package var integer: Int64? {
        switch self {
        case .int(let v): v
        case .uint(let v): Int64(exactly: v)
        case .double(let v): Int64(exactly: v)
        case .bytes: text.flatMap { Int64($0) ?? Double($0).flatMap { Int64(exactly: $0) } }
        case .null: nil
        }
    }
}

/// A complete answer to a query or statement execution.
package struct MySQLResult: Equatable, Sendable {
    /// Columns of a result set; empty for an OK answer.
    package var columns: [MySQLColumn] = []
    /// Rows, if decoded.
    package var rows: [[MySQLValue]] = []
    /// Rows counted (decoded or not).
    package var rowCount = 0
    /// The OK packet of a statement without a result set.
    package var ok: MySQLOK?

    package init() {}
}

/// A prepared statement's handle (COM_STMT_PREPARE_OK).
package struct MySQLPrepared: Equatable, Sendable {
    package var statementID: UInt32
    package var columnCount: Int
    package var parameterCount: Int

    package init(statementID: UInt32, columnCount: Int, parameterCount: Int) {
        self.statementID = statementID
        self.columnCount = columnCount
        self.parameterCount = parameterCount
    }
}

/// Command payloads.
package enum MySQLCommand {
    package static let quit: UInt8 = 0x01
    package static let query: UInt8 = 0x03
    package static let ping: UInt8 = 0x0E
    package static let stmtPrepare: UInt8 = 0x16
    package static let stmtExecute: UInt8 = 0x17
    package static let stmtClose: UInt8 = 0x19

    /// COM_QUERY.
    package static func query(_ sql: String) -> [UInt8] { [query] + Array(sql.utf8) }

    /// COM_STMT_PREPARE.
    package static func prepare(_ sql: String) -> [UInt8] { [stmtPrepare] + Array(sql.utf8) }

    /// Starts a packet in `out` (header to be patched by ``endPacket(_:at:sequence:)``); returns its start.
    package static func beginPacket(_ out: inout [UInt8]) -> Int {
        let start = out.count
        out += [0, 0, 0, 0]
        return start
    }

    /// Writes the header of the packet begun at `start` (payloads under 16 MiB).
    package static func endPacket(_ out: inout [UInt8], at start: Int, sequence: UInt8 = 0) {
        let n = out.count - start - 4
        precondition(n < MySQLPacket.maxPayload, "packet too large for one frame")
        out[start] = UInt8(n & 0xFF)
        out[start + 1] = UInt8(n >> 8 & 0xFF)
        out[start + 2] = UInt8(n >> 16 & 0xFF)
        out[start + 3] = sequence
    }

    /// Appends COM_STMT_EXECUTE's head for a statement whose parameters (none NULL) have `types`;
    /// the caller appends the values in binary form.
    package static func executeHead(_ statementID: UInt32, types: [UInt8], to out: inout [UInt8]) {
        out.append(stmtExecute)
        MySQLWriter.fixed(UInt64(statementID), 4, to: &out)
        out.append(0)  // CURSOR_TYPE_NO_CURSOR
        MySQLWriter.fixed(1, 4, to: &out)  // iteration count
        guard !types.isEmpty else { return }
        out += [UInt8](repeating: 0, count: (types.count + 7) / 8)
        out.append(1)  // new parameters bound
        for t in types { out += [t, 0] }
    }

    /// COM_STMT_EXECUTE with `parameters` (any value, NULLs included).
    package static func execute(_ statementID: UInt32, _ parameters: [MySQLValue]) -> [UInt8] {
        var out: [UInt8] = [stmtExecute]
        MySQLWriter.fixed(UInt64(statementID), 4, to: &out)
        out.append(0)
        MySQLWriter.fixed(1, 4, to: &out)
        guard !parameters.isEmpty else { return out }
        var bitmap = [UInt8](repeating: 0, count: (parameters.count + 7) / 8)
        for (i, p) in parameters.enumerated() where p == .null { bitmap[i / 8] |= 1 << UInt8(i % 8) }
        out += bitmap
        out.append(1)
        for p in parameters {
            switch p {
            case .null: out += [MySQLType.null, 0]
            case .int: out += [MySQLType.longlong, 0]
            case .uint: out += [MySQLType.longlong, 0x80]
            case .double: out += [MySQLType.double, 0]
            case .bytes: out += [MySQLType.varString, 0]
            }
        }
        for p in parameters {
            switch p {
            case .null: break
            case .int(let v): MySQLWriter.fixed(UInt64(bitPattern: v), 8, to: &out)
            case .uint(let v): MySQLWriter.fixed(v, 8, to: &out)
            case .double(let v): MySQLWriter.fixed(v.bitPattern, 8, to: &out)
            case .bytes(let b): MySQLWriter.lenencBytes(b, to: &out)
            }
        }
        return out
    }

    /// COM_STMT_CLOSE (the server sends no answer).
    package static func close(_ statementID: UInt32) -> [UInt8] {
        var out: [UInt8] = [stmtClose]
        MySQLWriter.fixed(UInt64(statementID), 4, to: &out)
        return out
    }
}

/// Decodes rows.
package enum MySQLRow {
    /// A text-protocol row: one length-encoded string (or NULL) per column.
    package static func text(_ payload: [UInt8], columns: Int) throws -> [MySQLValue] {
        var r = MySQLReader(payload)
        var out: [MySQLValue] = []
        out.reserveCapacity(columns)
        for i in 0..<columns {
            out.append(try r.lenencBytes("column \(i)").map { .bytes(Array($0)) } ?? .null)
        }
        guard r.remaining == 0 else {
            throw MySQLProtocolError("text row has \(r.remaining) byte(s) past its last column")
        }
        return out
    }

    /// A binary-protocol row (from a prepared statement): 0x00, a NULL bitmap offset by 2, values.
    package static func binary(_ payload: [UInt8], columns: [MySQLColumn]) throws -> [MySQLValue] {
        var r = MySQLReader(payload)
        guard try r.byte("row header") == 0 else { throw MySQLProtocolError("binary row does not start with 0x00") }
        let bitmap = Array(try r.take((columns.count + 7 + 2) / 8, "NULL bitmap"))
        var out: [MySQLValue] = []
        out.reserveCapacity(columns.count)
        for (i, column) in columns.enumerated() {
            let bit = i + 2
            if bitmap[bit / 8] & (1 << UInt8(bit % 8)) != 0 {
                out.append(.null)
                continue
            }
            let unsigned = column.flags & MySQLType.unsignedFlag != 0
            func integer(_ width: Int) throws -> MySQLValue {
                let raw = try r.fixed(width, "column \(column.name)")
                if unsigned { return .uint(raw) }
                let shift = UInt64(64 - 8 * width)
                return .int(Int64(bitPattern: raw << shift) >> Int64(shift))
            }
            switch column.type {
            case MySQLType.tiny: out.append(try integer(1))
            case MySQLType.short, MySQLType.year: out.append(try integer(2))
            case MySQLType.long, MySQLType.int24: out.append(try integer(4))
            case MySQLType.longlong: out.append(try integer(8))
            case MySQLType.float:
                out.append(.double(Double(Float(bitPattern: UInt32(try r.fixed(4, "column \(column.name)"))))))
            case MySQLType.double: out.append(.double(Double(bitPattern: try r.fixed(8, "column \(column.name)"))))
            case MySQLType.null: out.append(.null)
            case MySQLType.date, MySQLType.datetime, MySQLType.timestamp, MySQLType.time:
                let n = Int(try r.byte("column \(column.name) length"))
                out.append(.bytes(Array(try r.take(n, "column \(column.name)"))))
            default:
                out.append(.bytes(Array(try r.lenencBytes("column \(column.name)") ?? [])))
            }
        }
        guard r.remaining == 0 else {
            throw MySQLProtocolError("binary row has \(r.remaining) byte(s) past its last column")
        }
        return out
    }
}

/// Reads one answer packet by packet: an OK or ERR, a result set (text or binary), or a
/// COM_STMT_PREPARE answer. Without `decode` it only counts rows, looking at each packet's first
/// byte and length: that is the load generator's path.
package struct MySQLResponseReader {
    /// What kind of answer is expected.
    package enum Expect: Equatable, Sendable {
        /// OK, ERR, or a result set in the text protocol.
        case query
        /// OK, ERR, or a result set in the binary protocol.
        case execute
        /// COM_STMT_PREPARE's answer.
        case prepare
    }

    private enum State {
        case first, columns(Int), columnsEOF, rows, prepareParams(Int), prepareParamsEOF, prepareColumns(Int),
            prepareColumnsEOF, complete
    }

    package let expect: Expect
    package let decode: Bool
    private var state = State.first
    private var columnCount = 0
    /// The answer so far.
    package private(set) var result = MySQLResult()
    /// COM_STMT_PREPARE's handle.
    package private(set) var prepared: MySQLPrepared?
    /// The server's error, if it answered with one.
    package private(set) var error: MySQLServerError?

    package init(expect: Expect, decode: Bool) {
        self.expect = expect
        self.decode = decode
    }

    /// Whether the answer is complete.
    package var isComplete: Bool { if case .complete = state { true } else { false } }

    /// Takes the next packet's payload; returns `true` once the answer is complete.
    /// `payload` is only copied when it must be decoded.
    package mutating func consume(_ payload: UnsafeRawBufferPointer) throws -> Bool {
        let first: UInt8 = payload.first ?? 0
        let isEOF = first == 0xFE && payload.count < 9
        switch state {
        case .complete:
            throw MySQLProtocolError("packet after the end of the answer")
        case .first:
            guard !payload.isEmpty else { throw MySQLProtocolError("empty answer packet") }
            if first == 0xFF {
                error =
                    MySQLServerError.parse(Array(payload)) ?? MySQLServerError(code: 0, sqlState: "HY000", message: "")
                state = .complete
            } else if expect == .prepare {
                guard first == 0x00, payload.count >= 12 else {
                    throw MySQLProtocolError("COM_STMT_PREPARE answer starts with 0x\(String(first, radix: 16))")
                }
                let id =
                    UInt32(payload[1]) | UInt32(payload[2]) << 8 | UInt32(payload[3]) << 16 | UInt32(payload[4]) << 24
                let columns = Int(payload[5]) | Int(payload[6]) << 8
                let params = Int(payload[7]) | Int(payload[8]) << 8
                prepared = MySQLPrepared(statementID: id, columnCount: columns, parameterCount: params)
                columnCount = columns
                state = params > 0 ? .prepareParams(params) : columns > 0 ? .prepareColumns(columns) : .complete
            } else if first == 0x00 {
                if decode { result.ok = try MySQLOK.parse(Array(payload)) } else { result.ok = MySQLOK() }
                state = .complete
            } else if first == 0xFB {
                throw MySQLProtocolError("LOCAL INFILE requests are not supported")
            } else {
                var r = MySQLReader(Array(payload.prefix(9)))
                guard let n = try r.lenenc("column count"), n > 0, n <= 4096 else {
                    throw MySQLProtocolError("result set column count out of range")
                }
                columnCount = Int(n)
                state = .columns(columnCount)
            }
        case .columns(let left):
            if decode { result.columns.append(try MySQLColumn.parse(Array(payload))) }
            state = left > 1 ? .columns(left - 1) : .columnsEOF
        case .columnsEOF:
            guard isEOF else { throw MySQLProtocolError("expected EOF after \(columnCount) column definition(s)") }
            state = .rows
        case .rows:
            if isEOF {
                state = .complete
            } else if first == 0xFF {
                error =
                    MySQLServerError.parse(Array(payload)) ?? MySQLServerError(code: 0, sqlState: "HY000", message: "")
                state = .complete
            } else {
                result.rowCount += 1
                if decode {
                    result.rows.append(
                        expect == .execute
                            ? try MySQLRow.binary(Array(payload), columns: result.columns)
                            : try MySQLRow.text(Array(payload), columns: columnCount))
                }
            }
        case .prepareParams(let left):
            state = left > 1 ? .prepareParams(left - 1) : .prepareParamsEOF
        case .prepareParamsEOF:
            guard isEOF else { throw MySQLProtocolError("expected EOF after the parameter definitions") }
            state = columnCount > 0 ? .prepareColumns(columnCount) : .complete
        case .prepareColumns(let left):
            if decode { result.columns.append(try MySQLColumn.parse(Array(payload))) }
            state = left > 1 ? .prepareColumns(left - 1) : .prepareColumnsEOF
        case .prepareColumnsEOF:
            guard isEOF else { throw MySQLProtocolError("expected EOF after the column definitions") }
            state = .complete
        }
        return isComplete
    }
}
