import Foundation
import KilnBasics
import KilnModel

/// The checkpoint store in an SQLite file (WAL). Every SQLite call runs on one serial queue, off Swift's
/// cooperative pool; writes that arrive while a commit runs (or within a few milliseconds of a submitted one) are
/// grouped into one transaction.
package final class SQLiteCheckpointStore: CheckpointStore, @unchecked Sendable {
    // @unchecked Sendable: `database` is only touched on `queue`, a serial queue; `pending`, `draining` and
    // `submitError` only under `lock`.
    private let queue = DispatchQueue(label: "kiln-pipe.checkpoint-store")
    private let database: SQLiteDatabase
    private let lock = NSLock()
    private var pending: [(records: [CheckpointRecord], done: CheckedContinuation<Void, any Error>?)] = []
    private var draining = false
    /// The first error a submitted (not awaited) write met, for `flush` to report.
    private var submitError: (any Error)?
    package let path: String

    static let schemaVersion = 1

    /// Opens or creates the store at `path`, creating its folder.
    package init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        database = try SQLiteDatabase(path: path)
        try database.execute(
            """
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS results(
                key TEXT PRIMARY KEY, stage TEXT NOT NULL, status TEXT NOT NULL, item TEXT, error TEXT,
                input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL,
                latency_ms INTEGER NOT NULL, attempts INTEGER NOT NULL, request_hash TEXT, written_at REAL NOT NULL);
            CREATE INDEX IF NOT EXISTS results_by_stage ON results(stage, status);
            CREATE TABLE IF NOT EXISTS calls(
                request_hash TEXT PRIMARY KEY, provider TEXT NOT NULL, request TEXT NOT NULL, response TEXT NOT NULL);
            """)
        let version = try database.query("SELECT value FROM meta WHERE key = 'schema_version'").first?.first?.text
        if let version, Int(version) != Self.schemaVersion {
            throw SQLiteError(
                code: 0, message: "store schema version \(version), this kiln-pipe reads \(Self.schemaVersion)",
                context: "opening \(path)")
        }
        try database.query(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", [.text(String(Self.schemaVersion))])
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

    /// Durable when it returns. Writes that arrive while a transaction commits are grouped into the next one
    /// (group commit): one commit per burst instead of one per result, and no result waits on a timer.
    package func write(_ records: [CheckpointRecord]) async throws {
        guard !records.isEmpty else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enqueue(records, done: continuation)
        }
    }

    package func submit(_ records: [CheckpointRecord]) {
        guard !records.isEmpty else { return }
        enqueue(records, done: nil)
    }

    package func flush() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enqueue([], done: continuation)
        }
        if let error = lock.withLock({ submitError }) { throw error }
    }

    private func enqueue(_ records: [CheckpointRecord], done: CheckedContinuation<Void, any Error>?) {
        let startDrain = lock.withLock {
            pending.append((records, done))
            defer { draining = true }
            return !draining
        }
        guard startDrain else { return }
        // A submitted record waits a few milliseconds for others to share its commit: a commit costs about the
        // same for one record as for twenty. Awaited writes start at once.
        if done == nil {
            queue.asyncAfter(deadline: .now() + .milliseconds(Self.submitDelayMS)) { self.drain() }
        } else {
            queue.async { self.drain() }
        }
    }

    /// How long a submitted record may wait for company before its commit starts.
    static let submitDelayMS = 10

    /// Commits everything pending in one transaction, repeatedly, until nothing is left.
    private func drain() {
        while true {
            let batch = lock.withLock {
                let batch = pending
                pending.removeAll()
                if batch.isEmpty { draining = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            let records = batch.flatMap(\.records)
            let result = records.isEmpty ? .success(()) : Result { try commit(records) }
            if case .failure(let error) = result, batch.contains(where: { $0.done == nil }) {
                lock.withLock { submitError = submitError ?? error }
            }
            for entry in batch { entry.done?.resume(with: result) }
        }
    }

    private func commit(_ records: [CheckpointRecord]) throws {
        let now = Date().timeIntervalSince1970
        try database.transaction {
            for record in records {
                try database.query(
                    """
                    INSERT OR REPLACE INTO results(key, stage, status, item, error, input_tokens, output_tokens,
                        cost_usd, latency_ms, attempts, request_hash, written_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(record.key), .text(record.stage), .text(record.status.rawValue),
                        record.item.map { .text($0.serialized()) } ?? .null, record.error.map { .text($0) } ?? .null,
                        .integer(Int64(record.usage.inputTokens)), .integer(Int64(record.usage.outputTokens)),
                        .real(record.usage.costUSD), .integer(Int64(record.latencyMS)),
                        .integer(Int64(record.attempts)),
                        // Every call's hash, in order (a chain of thought makes two).
                        record.calls.isEmpty ? .null : .text(record.calls.map(\.requestHash).joined(separator: ",")),
                        .real(now),
                    ])
                for call in record.calls {
                    try database.query(
                        "INSERT OR REPLACE INTO calls(request_hash, provider, request, response) VALUES (?, ?, ?, ?)",
                        [
                            .text(call.requestHash), .text(call.provider), .text(call.requestText ?? call.request.serialized()),
                            .text(call.response.serialized()),
                        ])
                }
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
                var tally = tallies[stage] ?? StageTally(stage: stage)
                let count = Int(row[2].integer ?? 0)
                if row[1].text == CheckpointRecord.Status.done.rawValue { tally.done += count } else { tally.failed += count }
                tally.usage += Usage(
                    inputTokens: Int(row[3].integer ?? 0), outputTokens: Int(row[4].integer ?? 0),
                    costUSD: row[5].real ?? 0)
                tallies[stage] = tally
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
                guard let hashes = try database.query("SELECT request_hash FROM results WHERE key = ?", [.text(key)]).first?.first?.text
                else { continue }
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
