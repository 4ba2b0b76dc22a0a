import Foundation
package import KilnBasics
import KilnModel

/// The checkpoint store in an SQLite file (WAL). Every SQLite call runs on one serial queue, off Swift's
/// cooperative pool; writes that arrive while a commit runs, or within a few milliseconds of each other while
/// results stream in, are grouped into one transaction.
package final class SQLiteCheckpointStore: CheckpointStore, @unchecked Sendable {
    // @unchecked Sendable: `database` is only touched on `queue`, a serial queue.
    private let queue = DispatchQueue(label: "kiln-pipe.checkpoint-store")
    let database: SQLiteDatabase
    private let writes = GroupCommit()
    package let path: String

    /// 2: a result keeps its calls in its own row (`results.calls`); version 1 kept them in a `calls` table, which
    /// is still read for the records written then.
    static let schemaVersion = 2

    /// Opens an existing store for reading only (`status`, `view`): nothing is created or migrated, and a store
    /// a run is still setting up reads as not there yet (nil).
    package init?(readingAt path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        self.path = path
        database = try SQLiteDatabase(path: path, readOnly: true)
        let version = try? database.query("SELECT value FROM meta WHERE key = 'schema_version'").first?.first?.text
        guard let version else { return nil }
        guard Int(version) == Self.schemaVersion else {
            throw SQLiteError(
                code: 0,
                message:
                    "store schema version \(version), this kiln-pipe reads \(Self.schemaVersion) (a run migrates it)",
                context: "opening \(path)")
        }
    }

    /// Opens or creates the store at `path`, creating its folder.
    package init(path: String) throws {
        self.path = path
        try Folder.create(URL(fileURLWithPath: path).deletingLastPathComponent().path)
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
            \(Self.batchTables)
            \(Self.sharedTables)
            """)
        let version = try database.query("SELECT value FROM meta WHERE key = 'schema_version'").first?.first?.text
        switch version.flatMap({ Int($0) }) {
        case nil:
            // Another process opening the new file at the same moment may have written it first.
            try database.query(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                [.text(String(Self.schemaVersion))])
        case 1:
            // A version 1 store gains the column; its old records keep reading their calls from the calls table.
            try database.transaction {
                try database.execute("ALTER TABLE results ADD COLUMN calls TEXT")
                try database.query(
                    "UPDATE meta SET value = ? WHERE key = 'schema_version'", [.text(String(Self.schemaVersion))])
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
    func onQueue<Value: Sendable>(
        _ body: @escaping @Sendable (SQLiteDatabase) throws -> Value
    ) async throws
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

    /// One write transaction reads the list and writes it longer: SQLite lets one writer in at a time, so another
    /// process appending meanwhile waits and then sees this value.
    package func append(_ value: JSONValue, toListAt key: String, stage: String) async throws {
        try await onQueue { database in
            try database.transaction {
                let stored = try database.query("SELECT item FROM results WHERE key = ?", [.text(key)]).first?.first
                let list = try stored?.text.map { try JSONValue(parsing: $0) }?.arrayValue ?? []
                try database.query(
                    """
                    INSERT OR REPLACE INTO results(key, stage, status, item, error, input_tokens, output_tokens,
                        cost_usd, latency_ms, attempts, request_hash, written_at, calls)
                    VALUES (?, ?, 'done', ?, NULL, 0, 0, 0, 0, 0, NULL, ?, NULL)
                    """,
                    [
                        .text(key), .text(stage), .text(JSONValue.array(list + [value]).serialized()),
                        .real(Date().timeIntervalSince1970),
                    ])
            }
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
                guard
                    let row = try database.query("SELECT request_hash, calls FROM results WHERE key = ?", [.text(key)])
                        .first
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
                            "SELECT provider, request, response FROM calls WHERE request_hash = ?",
                            [.text(String(hash))]
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

    /// Provider batch submissions and the requests each carries (added to any version of the store as it opens).
    static let batchTables = """
        CREATE TABLE IF NOT EXISTS batches(
            key TEXT PRIMARY KEY, provider TEXT NOT NULL, state TEXT NOT NULL, provider_batch_id TEXT,
            provider_status TEXT, requests INTEGER NOT NULL, completed INTEGER NOT NULL, failed INTEGER NOT NULL,
            note TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL);
        CREATE TABLE IF NOT EXISTS batch_requests(
            request_hash TEXT NOT NULL, batch_key TEXT NOT NULL, PRIMARY KEY(request_hash, batch_key));
        """

    package func saveBatch(_ batch: BatchRecord) async throws {
        try await onQueue { database in
            try database.transaction {
                try database.query(
                    """
                    INSERT OR REPLACE INTO batches(key, provider, state, provider_batch_id, provider_status, requests,
                        completed, failed, note, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(batch.key), .text(batch.provider), .text(batch.state.rawValue),
                        batch.providerBatchID.map(SQLiteValue.text) ?? .null,
                        batch.providerStatus.map(SQLiteValue.text) ?? .null, .integer(Int64(batch.requests)),
                        .integer(Int64(batch.completed)), .integer(Int64(batch.failed)),
                        batch.note.map(SQLiteValue.text) ?? .null, .real(batch.createdAt), .real(batch.updatedAt),
                    ])
                for hash in batch.requestHashes {
                    try database.query(
                        "INSERT OR IGNORE INTO batch_requests(request_hash, batch_key) VALUES (?, ?)",
                        [.text(hash), .text(batch.key)])
                }
            }
        }
    }

    package func batches(carrying requestHashes: [String]) async throws -> [String: BatchRecord] {
        guard !requestHashes.isEmpty else { return [:] }
        let since = Date().timeIntervalSince1970 - BatchRecord.resultsLifetimeSeconds
        return try await onQueue { database in
            var found: [String: BatchRecord] = [:]
            for hash in requestHashes {
                let rows = try database.query(
                    """
                    SELECT \(Self.batchColumns) FROM batch_requests r JOIN batches b ON b.key = r.batch_key
                    WHERE r.request_hash = ? AND b.state != 'refused' AND b.created_at > ?
                    ORDER BY b.created_at DESC LIMIT 1
                    """, [.text(hash), .real(since)])
                if let row = rows.first { found[hash] = Self.batch(from: row) }
            }
            return found
        }
    }

    package func recentBatches(limit: Int) async throws -> [BatchRecord] {
        try await onQueue { database in
            try database.query(
                "SELECT \(Self.batchColumns) FROM batches b ORDER BY b.created_at DESC LIMIT ?",
                [.integer(Int64(limit))]
            ).map(Self.batch(from:))
        }
    }

    private static let batchColumns = """
        b.key, b.provider, b.state, b.provider_batch_id, b.provider_status, b.requests, b.completed, b.failed, b.note,
        b.created_at, b.updated_at
        """

    private static func batch(from row: [SQLiteValue]) -> BatchRecord {
        BatchRecord(
            key: row[0].text ?? "", provider: row[1].text ?? "",
            state: BatchRecord.State(rawValue: row[2].text ?? "") ?? .refused, providerBatchID: row[3].text,
            providerStatus: row[4].text, requests: Int(row[5].integer ?? 0), completed: Int(row[6].integer ?? 0),
            failed: Int(row[7].integer ?? 0), note: row[8].text, createdAt: row[9].real ?? 0,
            updatedAt: row[10].real ?? 0)
    }

    private static func record(from row: [SQLiteValue]) throws -> CheckpointRecord {
        CheckpointRecord(
            key: row[0].text ?? "", stage: row[1].text ?? "",
            status: CheckpointRecord.Status(rawValue: row[2].text ?? "") ?? .failed,
            item: try row[3].text.map { try JSONValue(parsing: $0) }, error: row[4].text,
            usage: Usage(
                inputTokens: Int(row[5].integer ?? 0), outputTokens: Int(row[6].integer ?? 0), costUSD: row[7].real ?? 0
            ),
            latencyMS: Int(row[8].integer ?? 0), attempts: Int(row[9].integer ?? 0))
    }
}
