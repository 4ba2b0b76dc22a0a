import Foundation
import KilnBasics
import KilnModel

/// The checkpoint store in an SQLite file (WAL). Every SQLite call runs on one serial queue, off Swift's
/// cooperative pool; writes that arrive while a commit runs, or within a few milliseconds of each other while
/// results stream in, are grouped into one transaction.
package final class SQLiteCheckpointStore: CheckpointStore, @unchecked Sendable {
    // @unchecked Sendable: `database` is only touched on `queue`, a serial queue.
    private let queue = DispatchQueue(label: "kiln-pipe.checkpoint-store")
    private let database: SQLiteDatabase
    private let writes = GroupCommit()
    package let path: String

    /// 2: a result keeps its calls in its own row (`results.calls`); version 1 kept them in a `calls` table, which
    /// is still read for the records written then.
    static let schemaVersion = 2

    /// Opens or creates the store at `path`, creating its folder.
    package init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        database = try SQLiteDatabase(path: path)
        // Checkpoint the WAL every 16 MB instead of every 4: a page rewritten by many commits is copied back once.
        try database.execute("PRAGMA wal_autocheckpoint=4000")
        try database.execute(
            """
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS results(
                key TEXT PRIMARY KEY, stage TEXT NOT NULL, status TEXT NOT NULL, item TEXT, error TEXT,
                input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL,
                latency_ms INTEGER NOT NULL, attempts INTEGER NOT NULL, request_hash TEXT, written_at REAL NOT NULL,
                calls TEXT);
            CREATE INDEX IF NOT EXISTS results_by_stage ON results(stage, status);
            CREATE TABLE IF NOT EXISTS calls(
                request_hash TEXT PRIMARY KEY, provider TEXT NOT NULL, request TEXT NOT NULL, response TEXT NOT NULL);
            """)
        let version = try database.query("SELECT value FROM meta WHERE key = 'schema_version'").first?.first?.text
        switch version.flatMap({ Int($0) }) {
        case nil:
            try database.query(
                "INSERT INTO meta(key, value) VALUES ('schema_version', ?)", [.text(String(Self.schemaVersion))])
        case 1:
            // A version 1 store gains the column; its old records keep reading their calls from the calls table.
            try database.transaction {
                try database.execute("ALTER TABLE results ADD COLUMN calls TEXT")
                try database.query("UPDATE meta SET value = ? WHERE key = 'schema_version'", [.text(String(Self.schemaVersion))])
            }
        case Self.schemaVersion:
            break
        default:
            throw SQLiteError(
                code: 0, message: "store schema version \(version ?? "?"), this kiln-pipe reads \(Self.schemaVersion)",
                context: "opening \(path)")
        }
    }

    /// Runs `body` with the database on the store's queue.
    private func onQueue<Value: Sendable>(_ body: @escaping @Sendable (SQLiteDatabase) throws -> Value) async throws
        -> Value
    {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Swift.Result { try body(self.database) }) }
        }
    }

    package func records(forKeys keys: [String]) async throws -> [String: CheckpointRecord] {
        guard !keys.isEmpty else { return [:] }
        return try await onQueue { database in
            var found: [String: CheckpointRecord] = [:]
            for key in keys {
                guard
                    let row = try database.query(
                        """
                        SELECT key, stage, status, item, error, input_tokens, output_tokens, cost_usd, latency_ms,
                               attempts FROM results WHERE key = ?
                        """, [.text(key)]
                    ).first
                else { continue }
                found[key] = try Self.record(from: row)
            }
            return found
        }
    }

    /// Durable when it returns. Writes that arrive while a transaction commits, or within `batchingDelayMS` of
    /// each other in a stream, are grouped into one (group commit): one commit per dozen results instead of one
    /// per result.
    package func write(_ records: [CheckpointRecord]) async throws {
        guard !records.isEmpty else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enqueue(records, done: continuation)
        }
    }

    private func enqueue(_ records: [CheckpointRecord], done: CheckedContinuation<Void, any Error>) {
        let (startDrain, sinceLastCommit) = writes.add((records, done))
        guard startDrain else { return }
        // While results stream in, a write waits a few milliseconds for others to share its commit (a commit costs
        // about the same for one record as for a dozen); a lone write commits at once.
        if sinceLastCommit < .milliseconds(4 * Self.batchingDelayMS) {
            queue.asyncAfter(deadline: .now() + .milliseconds(Self.batchingDelayMS)) { self.drain() }
        } else {
            queue.async { self.drain() }
        }
    }

    /// How long a write in a stream of writes waits for company before its commit starts.
    static let batchingDelayMS = 10

    /// Commits everything pending in one transaction, repeatedly, until nothing is left.
    private func drain() {
        writes.drainBlocking { records in Result { try commit(records) } }
    }

    private func commit(_ records: [CheckpointRecord]) throws {
        let now = Date().timeIntervalSince1970
        try database.transaction {
            for record in records {
                try database.query(
                    """
                    INSERT OR REPLACE INTO results(key, stage, status, item, error, input_tokens, output_tokens,
                        cost_usd, latency_ms, attempts, request_hash, written_at, calls)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(record.key), .text(record.stage), .text(record.status.rawValue),
                        record.item.map { .text($0.serialized()) } ?? .null, record.error.map { .text($0) } ?? .null,
                        .integer(Int64(record.usage.inputTokens)), .integer(Int64(record.usage.outputTokens)),
                        .real(record.usage.costUSD), .integer(Int64(record.latencyMS)),
                        .integer(Int64(record.attempts)),
                        // Every call's hash, in order (a chain of thought makes two).
                        record.calls.isEmpty ? .null : .text(RecordedCall.storedHashes(of: record.calls)),
                        .real(now), record.calls.isEmpty ? .null : .text(RecordedCall.storedText(of: record.calls)),
                    ])
            }
        }
    }

    package func tallies() async throws -> [StageTally] {
        try await onQueue { database in
            var tallies: [String: StageTally] = [:]
            let rows = try database.query(
                """
                SELECT stage, status, COUNT(*), SUM(input_tokens), SUM(output_tokens), SUM(cost_usd)
                FROM results GROUP BY stage, status
                """)
            for row in rows {
                guard let stage = row[0].text else { continue }
                tallies[stage, default: StageTally(stage: stage)].add(
                    status: row[1].text ?? "", count: Int(row[2].integer ?? 0),
                    usage: Usage(
                        inputTokens: Int(row[3].integer ?? 0), outputTokens: Int(row[4].integer ?? 0),
                        costUSD: row[5].real ?? 0))
            }
            for stage in tallies.keys {
                tallies[stage]?.recentErrors = try database.query(
                    "SELECT error FROM results WHERE stage = ? AND status = 'failed' ORDER BY written_at DESC LIMIT 3",
                    [.text(stage)]
                ).compactMap { $0.first?.text }
            }
            return tallies.values.sorted { $0.stage < $1.stage }
        }
    }

    package func calls(forKeys keys: [String]) async throws -> [String: [RecordedCall]] {
        guard !keys.isEmpty else { return [:] }
        return try await onQueue { database in
            var found: [String: [RecordedCall]] = [:]
            for key in keys {
                guard let row = try database.query("SELECT request_hash, calls FROM results WHERE key = ?", [.text(key)]).first
                else { continue }
                if let inline = row[1].text {
                    found[key] = try RecordedCall.calls(fromStoredText: inline)
                    continue
                }
                guard let hashes = row[0].text else { continue }
                // Written by version 1: the calls are in their own table.
                found[key] = try hashes.split(separator: ",").compactMap { hash in
                    guard
                        let row = try database.query(
                            "SELECT provider, request, response FROM calls WHERE request_hash = ?", [.text(String(hash))]
                        ).first, let provider = row[0].text, let request = row[1].text, let response = row[2].text
                    else { return nil }
                    return RecordedCall(
                        requestHash: String(hash), provider: provider, request: try JSONValue(parsing: request),
                        response: try JSONValue(parsing: response))
                }
            }
            return found
        }
    }

    private static func record(from row: [SQLiteValue]) throws -> CheckpointRecord {
        CheckpointRecord(
            key: row[0].text ?? "", stage: row[1].text ?? "",
            status: CheckpointRecord.Status(rawValue: row[2].text ?? "") ?? .failed,
            item: try row[3].text.map { try JSONValue(parsing: $0) }, error: row[4].text,
            usage: Usage(
                inputTokens: Int(row[5].integer ?? 0), outputTokens: Int(row[6].integer ?? 0), costUSD: row[7].real ?? 0),
            latencyMS: Int(row[8].integer ?? 0), attempts: Int(row[9].integer ?? 0))
    }
}
