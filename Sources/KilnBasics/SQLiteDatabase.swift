import CSQLite
import Foundation

/// An SQLite error with the statement or step it came from.
package struct SQLiteError: Error, Sendable, CustomStringConvertible {
    package var code: Int32
    package var message: String
    package var context: String

    package init(code: Int32, message: String, context: String) {
        self.code = code
        self.message = message
        self.context = context
    }

    package var description: String { "SQLite error \(code) while \(context): \(message)" }
}

/// A value bound to or read from an SQLite statement.
package enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    package var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    package var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .real(let value): Int64(value)
        default: nil
        }
    }

    package var real: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .real(let value): value
        default: nil
        }
    }
}

/// A thin SQLite connection. Not thread-safe: its owner confines it to one thread or serial queue, because every
/// call blocks and must stay off Swift's cooperative pool.
package final class SQLiteDatabase {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    package let path: String

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Opens (creating when missing) the database at `path` in WAL mode; `readOnly`: an existing one, for reading
    /// only (its journal mode as the writers set it).
    package init(path: String, readOnly: Bool = false) throws {
        self.path = path
        var connection: OpaquePointer?
        let flags =
            readOnly
            ? SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
            : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &connection, flags, nil)
        guard status == SQLITE_OK, let connection else {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(connection)
            throw SQLiteError(code: status, message: message, context: "opening \(path)")
        }
        handle = connection
        sqlite3_busy_timeout(connection, 10_000)
        guard !readOnly else { return }
        // WAL + NORMAL: a committed transaction survives a killed process; only power loss may drop the last ones.
        // Two processes opening a new file at once: switching it to WAL is refused at once to one of them (SQLite
        // does not wait on a lock for it), so that one tries again for up to 10 s.
        var attempts = 0
        while true {
            do {
                try execute("PRAGMA journal_mode=WAL")
                break
            } catch let error as SQLiteError where error.code == SQLITE_BUSY && attempts < 200 {
                attempts += 1
                usleep(50_000)
            }
        }
        try execute("PRAGMA synchronous=NORMAL")
        try execute("PRAGMA foreign_keys=ON")
    }

    deinit { close() }

    package func close() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements.removeAll()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Runs one or more statements that return no rows.
    package func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &error)
        if status != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(error)
            throw SQLiteError(code: status, message: message, context: "executing \(sql.prefix(80))")
        }
    }

    /// Runs a statement with bound values; returns its rows. Statements are prepared once and cached.
    @discardableResult
    package func query(_ sql: String, _ values: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
        var rows: [[SQLiteValue]] = []
        try forEachRow(sql, values) { row in
            rows.append((0..<row.count).map { row.value($0) })
        }
        return rows
    }

    /// Runs a statement and hands each row to `body` as it is stepped: for results too large to hold as values.
    package func forEachRow(_ sql: String, _ values: [SQLiteValue] = [], _ body: (SQLiteRow) throws -> Void) throws {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32
            switch value {
            case .null: status = sqlite3_bind_null(statement, index)
            case .integer(let integer): status = sqlite3_bind_int64(statement, index, integer)
            case .real(let real): status = sqlite3_bind_double(statement, index, real)
            case .text(let text): status = sqlite3_bind_text(statement, index, text, -1, Self.transient)
            case .blob(let bytes):
                status = bytes.withUnsafeBytes {
                    sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), Self.transient)
                }
            }
            guard status == SQLITE_OK else { throw error(status, "binding value \(index) of \(sql.prefix(80))") }
        }
        let row = SQLiteRow(statement: statement)
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else { throw error(status, "running \(sql.prefix(80))") }
            try body(row)
        }
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    package var changes: Int { Int(sqlite3_changes(handle)) }

    /// The rowid of the last inserted row.
    package var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    package func transaction<Result>(_ body: () throws -> Result) throws -> Result {
        try query("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try query("COMMIT")
            return result
        } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard status == SQLITE_OK, let statement else { throw error(status, "preparing \(sql.prefix(80))") }
        statements[sql] = statement
        return statement
    }

    private func error(_ status: Int32, _ context: String) -> SQLiteError {
        SQLiteError(
            code: status, message: handle.map { String(cString: sqlite3_errmsg($0)) } ?? "closed", context: context)
    }
}

/// The current row of a statement being stepped; valid only inside `forEachRow`'s body.
package struct SQLiteRow {
    fileprivate let statement: OpaquePointer

    package var count: Int { Int(sqlite3_column_count(statement)) }

    package func value(_ column: Int) -> SQLiteValue {
        let column = Int32(column)
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, column))
        case SQLITE_NULL: return .null
        case SQLITE_BLOB: return .blob(Array(blob(Int(column))))
        default: return .text(String(cString: sqlite3_column_text(statement, column)))
        }
    }

    /// A blob column's bytes without copying them; valid until the next step.
    package func blob(_ column: Int) -> UnsafeRawBufferPointer {
        let column = Int32(column)
        guard let base = sqlite3_column_blob(statement, column) else {
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        return UnsafeRawBufferPointer(start: base, count: Int(sqlite3_column_bytes(statement, column)))
    }

    package func integer(_ column: Int) -> Int64 { sqlite3_column_int64(statement, Int32(column)) }

    package func real(_ column: Int) -> Double { sqlite3_column_double(statement, Int32(column)) }

    package func text(_ column: Int) -> String? {
        guard let text = sqlite3_column_text(statement, Int32(column)) else { return nil }
        return String(cString: text)
    }
}
