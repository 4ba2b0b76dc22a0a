import Foundation
package import KilnBasics
import KilnModel
package import KilnStore
import Logging
import PostgresNIO
import Synchronization

/// The checkpoint store in a PostgreSQL database (`--state postgres://…`), so that the shards of a run on several
/// machines, and the stages run after them, share one store. Same records and semantics as the SQLite store: a
/// write is durable (committed) when it returns, and writes arriving together share one transaction.
package final class PostgresCheckpointStore: CheckpointStore, Sendable {
    let client: PostgresClient
    let location: PostgresLocation
    private let writes = GroupCommit()

    /// 1: the layout of the SQLite store's version 2, in `kiln_pipe_*` tables.
    static let schemaVersion = 1

    /// A store for the database `url` names; throws when the URL cannot name one. It works inside `with` only.
    init(url: String) throws {
        location = try PostgresLocation(url: url)
        client = PostgresClient(configuration: location.configuration, backgroundLogger: Self.quiet)
    }

    /// Runs `body` with the store of the database `url` names: its connection pool runs as a child task of this
    /// scope and ends with it. Before `body`, the database is reached (or a clear error thrown: nothing was paid
    /// for yet) and the store's tables are created when missing.
    package static func with<Result: Sendable>(
        url: String, _ body: (PostgresCheckpointStore) async throws -> Result
    ) async throws -> Result {
        let store = try PostgresCheckpointStore(url: url)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.client.run() }
            defer { group.cancelAll() }
            try await store.prepare()
            return try await body(store)
        }
    }

    /// Reaches the database within connect_timeout and creates the tables.
    private func prepare() async throws {
        let location = location
        do {
            try await Self.withDeadline(seconds: location.connectTimeoutSeconds, location: location) {
                let probe = try await PostgresConnection.connect(
                    configuration: try location.connectionConfiguration(), id: 0, logger: Self.quiet)
                try await probe.close()
            }
            try await Self.createSchema(client)
        } catch {
            throw location.error(error, while: "opening the store")
        }
    }

    /// kiln-pipe reports errors itself; the client's own logging stays off.
    static let quiet = Logger(label: "kiln-pipe.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Creates the tables once, under an advisory lock: shards starting together must not race on CREATE TABLE.
    private static func createSchema(_ client: PostgresClient) async throws {
        let logger = Self.quiet
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.schemaLockID))", logger: logger)
            for statement in [
                "CREATE TABLE IF NOT EXISTS kiln_pipe_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                """
                CREATE TABLE IF NOT EXISTS kiln_pipe_results(
                    key TEXT PRIMARY KEY, stage TEXT NOT NULL, status TEXT NOT NULL, item TEXT, error TEXT,
                    input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, cost_usd DOUBLE PRECISION NOT NULL,
                    latency_ms BIGINT NOT NULL, attempts BIGINT NOT NULL, request_hash TEXT,
                    written_at DOUBLE PRECISION NOT NULL, calls TEXT)
                """,
                "CREATE INDEX IF NOT EXISTS kiln_pipe_results_by_stage ON kiln_pipe_results(stage, status)",
                """
                CREATE TABLE IF NOT EXISTS kiln_pipe_batches(
                    key TEXT PRIMARY KEY, provider TEXT NOT NULL, state TEXT NOT NULL, provider_batch_id TEXT,
                    provider_status TEXT, requests BIGINT NOT NULL, completed BIGINT NOT NULL, failed BIGINT NOT NULL,
                    note TEXT, created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL)
                """,
                """
                CREATE TABLE IF NOT EXISTS kiln_pipe_batch_requests(
                    request_hash TEXT NOT NULL, batch_key TEXT NOT NULL, PRIMARY KEY(request_hash, batch_key))
                """,
            ] + Self.sharedTables {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            let rows = try await connection.query(
                "SELECT value FROM kiln_pipe_meta WHERE key = 'schema_version'", logger: logger)
            var version: String?
            for try await (value) in rows.decode(String.self) { version = value }
            switch version {
            case nil:
                try await connection.query(
                    "INSERT INTO kiln_pipe_meta(key, value) VALUES ('schema_version', \(String(Self.schemaVersion)))",
                    logger: logger)
            case String(Self.schemaVersion):
                break
            default:
                throw ActionableError(
                    "the store's schema version is \(version ?? "?"), this kiln-pipe reads \(Self.schemaVersion)",
                    hint: "use the kiln-pipe version that wrote it, or a new database")
            }
        }
    }

    /// The advisory lock that serializes schema creation (any fixed number unlikely to clash with other users').
    static let schemaLockID: Int64 = 0x6B69_6C6E_7069_7065

    /// `body`'s value, or an error once `seconds` have passed. It returns at the deadline even when `body` ignores
    /// cancellation (a connection pool waiting for a server that is gone): a task group would wait for it for ever.
    private static func withDeadline<Value: Sendable>(
        seconds: Double, location: PostgresLocation, _ body: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let answered = Mutex(false)
        /// True for the first of the work and the timer to finish: only that one resumes the caller.
        let first: @Sendable () -> Bool = {
            answered.withLock { done in
                defer { done = true }
                return !done
            }
        }
        let timer = TimerSlot()
        return try await withCheckedThrowingContinuation { continuation in
            // Unstructured on purpose: a task group would wait for ever for work the pool never gives up.
            let work = Task {
                do {
                    let value = try await body()
                    if first() { continuation.resume(returning: value) }
                } catch {
                    if first() { continuation.resume(throwing: error) }
                }
                // Answered in time: the timer has nothing left to do.
                timer.task.withLock { $0?.cancel() }
            }
            timer.task.withLock { slot in
                slot = Task {
                    do { try await Task.sleep(for: .seconds(seconds)) } catch { return }
                    guard first() else { return }
                    work.cancel()
                    continuation.resume(
                        throwing: ActionableError(
                            "no answer from the PostgreSQL store \(location) within \(seconds.compactDescription) s",
                            hint:
                                "check the host and port, and that the server accepts TCP connections; "
                                + "?connect_timeout=S waits longer"))
                }
            }
        }
    }

    /// Runs `body` for at most 4 × connect_timeout (a database gone away must not leave
    /// the run waiting on it for ever); errors say which store and what was being done.
    func bounded<Value: Sendable>(
        _ action: String, _ body: @escaping @Sendable () async throws -> Value
    )
        async throws -> Value
    {
        do {
            return try await Self.withDeadline(seconds: 4 * location.connectTimeoutSeconds, location: location, body)
        } catch {
            throw location.error(error, while: action)
        }
    }

    package func records(forKeys keys: [String]) async throws -> [String: CheckpointRecord] {
        guard !keys.isEmpty else { return [:] }
        return try await bounded("reading results") { [client] in
            let rows = try await client.query(
                """
                SELECT key, stage, status, item, error, input_tokens, output_tokens, cost_usd, latency_ms, attempts
                FROM kiln_pipe_results WHERE key = ANY(\(keys))
                """)
            var found: [String: CheckpointRecord] = [:]
            for try await (key, stage, status, item, error, input, output, cost, latency, attempts) in rows.decode(
                (String, String, String, String?, String?, Int64, Int64, Double, Int64, Int64).self)
            {
                found[key] = CheckpointRecord(
                    key: key, stage: stage, status: CheckpointRecord.Status(rawValue: status) ?? .failed,
                    item: try item.map { try JSONValue(parsing: $0) }, error: error,
                    usage: Usage(inputTokens: Int(input), outputTokens: Int(output), costUSD: cost),
                    latencyMS: Int(latency), attempts: Int(attempts))
            }
            return found
        }
    }

    /// Durable when it returns; writes that arrive while a transaction commits share the next one.
    package func write(_ records: [CheckpointRecord]) async throws {
        guard !records.isEmpty else { return }
        try await writes.write(records) { records in
            do {
                try await bounded("writing results") { try await self.commit(records) }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
    }

    /// One multi-row upsert per 500 records, in one transaction.
    private func commit(_ records: [CheckpointRecord]) async throws {
        // A key written twice in one batch keeps its last record (one statement cannot update a row twice).
        var latest: [String: Int] = [:]
        for (index, record) in records.enumerated() { latest[record.key] = index }
        let unique = records.indices.filter { latest[records[$0].key] == $0 }.map { records[$0] }
        let now = Date().timeIntervalSince1970
        let logger = Self.quiet
        try await client.withTransaction(logger: logger) { connection in
            var start = 0
            while start < unique.count {
                let chunk = unique[start..<min(start + 500, unique.count)]
                start += chunk.count
                var binds = PostgresBindings(capacity: chunk.count * 13)
                var rows: [String] = []
                for record in chunk {
                    let first = binds.count
                    binds.append(record.key)
                    binds.append(record.stage)
                    binds.append(record.status.rawValue)
                    binds.append(record.item.map { $0.serialized() })
                    binds.append(record.error)
                    binds.append(Int64(record.usage.inputTokens))
                    binds.append(Int64(record.usage.outputTokens))
                    binds.append(record.usage.costUSD)
                    binds.append(Int64(record.latencyMS))
                    binds.append(Int64(record.attempts))
                    binds.append(record.calls.isEmpty ? nil : RecordedCall.storedHashes(of: record.calls))
                    binds.append(now)
                    binds.append(record.calls.isEmpty ? nil : RecordedCall.storedText(of: record.calls))
                    rows.append("(" + (first + 1...first + 13).map { "$\($0)" }.joined(separator: ",") + ")")
                }
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO kiln_pipe_results(key, stage, status, item, error, input_tokens, output_tokens,
                                cost_usd, latency_ms, attempts, request_hash, written_at, calls)
                            VALUES \(rows.joined(separator: ","))
                            ON CONFLICT (key) DO UPDATE SET stage = EXCLUDED.stage, status = EXCLUDED.status,
                                item = EXCLUDED.item, error = EXCLUDED.error, input_tokens = EXCLUDED.input_tokens,
                                output_tokens = EXCLUDED.output_tokens, cost_usd = EXCLUDED.cost_usd,
                                latency_ms = EXCLUDED.latency_ms, attempts = EXCLUDED.attempts,
                                request_hash = EXCLUDED.request_hash, written_at = EXCLUDED.written_at, calls = \
                                EXCLUDED.calls
                            """, binds: binds), logger: logger)
            }
        }
    }

    package func tallies() async throws -> [StageTally] {
        try await bounded("reading totals") { [client] in
            var tallies: [String: StageTally] = [:]
            let rows = try await client.query(
                """
                SELECT stage, status, COUNT(*), SUM(input_tokens)::BIGINT, SUM(output_tokens)::BIGINT, SUM(cost_usd)
                FROM kiln_pipe_results GROUP BY stage, status
                """)
            for try await (stage, status, count, input, output, cost) in rows.decode(
                (String, String, Int64, Int64, Int64, Double).self)
            {
                tallies[stage, default: StageTally(stage: stage)].add(
                    status: status, count: Int(count),
                    usage: Usage(inputTokens: Int(input), outputTokens: Int(output), costUSD: cost))
            }
            for stage in tallies.keys {
                let errors = try await client.query(
                    """
                    SELECT error FROM kiln_pipe_results WHERE stage = \(stage) AND status = 'failed'
                    ORDER BY written_at DESC LIMIT 3
                    """)
                for try await (error) in errors.decode(String?.self) {
                    if let error { tallies[stage]?.recentErrors.append(error) }
                }
            }
            return tallies.values.sorted { $0.stage < $1.stage }
        }
    }

    package func calls(forKeys keys: [String]) async throws -> [String: [RecordedCall]] {
        guard !keys.isEmpty else { return [:] }
        return try await bounded("reading calls") { [client] in
            let rows = try await client.query("SELECT key, calls FROM kiln_pipe_results WHERE key = ANY(\(keys))")
            var found: [String: [RecordedCall]] = [:]
            for try await (key, calls) in rows.decode((String, String?).self) {
                found[key] = try calls.map(RecordedCall.calls(fromStoredText:)) ?? []
            }
            return found
        }
    }

    /// One upsert: a row that exists is locked and its list made longer in place, so writers on several machines
    /// appending at once all stay in it.
    package func append(_ value: JSONValue, toListAt key: String, stage: String) async throws {
        let item = JSONValue.array([value]).serialized()
        let now = Date().timeIntervalSince1970
        try await bounded("appending to a list") { [client] in
            let rows = try await client.query(
                """
                INSERT INTO kiln_pipe_results(key, stage, status, item, input_tokens, output_tokens, cost_usd,
                    latency_ms, attempts, written_at)
                VALUES (\(key), \(stage), 'done', \(item), 0, 0, 0, 0, 0, \(now))
                ON CONFLICT (key) DO UPDATE SET
                    item = (COALESCE(kiln_pipe_results.item, '[]')::jsonb || EXCLUDED.item::jsonb)::text,
                    written_at = EXCLUDED.written_at
                """, logger: Self.quiet)
            for try await _ in rows {}
        }
    }

    package func saveBatch(_ batch: BatchRecord) async throws {
        try await bounded("saving a batch submission") { [client] in
            let logger = Self.quiet
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query(
                    """
                    INSERT INTO kiln_pipe_batches(key, provider, state, provider_batch_id, provider_status, requests,
                        completed, failed, note, created_at, updated_at)
                    VALUES (\(batch.key), \(batch.provider), \(batch.state.rawValue), \(batch.providerBatchID),
                        \(batch.providerStatus), \(Int64(batch.requests)), \(Int64(batch.completed)),
                        \(Int64(batch.failed)), \(batch.note), \(batch.createdAt), \(batch.updatedAt))
                    ON CONFLICT (key) DO UPDATE SET provider = EXCLUDED.provider, state = EXCLUDED.state,
                        provider_batch_id = EXCLUDED.provider_batch_id, provider_status = EXCLUDED.provider_status,
                        requests = EXCLUDED.requests, completed = EXCLUDED.completed, failed = EXCLUDED.failed,
                        note = EXCLUDED.note, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
                    """, logger: logger)
                guard !batch.requestHashes.isEmpty else { return }
                try await connection.query(
                    """
                    INSERT INTO kiln_pipe_batch_requests(request_hash, batch_key)
                    SELECT UNNEST(\(batch.requestHashes)::TEXT[]), \(batch.key) ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
        }
    }

    package func batches(carrying requestHashes: [String]) async throws -> [String: BatchRecord] {
        guard !requestHashes.isEmpty else { return [:] }
        let since = Date().timeIntervalSince1970 - BatchRecord.resultsLifetimeSeconds
        return try await bounded("reading batch submissions") { [client] in
            let rows = try await client.query(
                """
                SELECT DISTINCT ON (r.request_hash) r.request_hash, \(unescaped: Self.batchColumns)
                FROM kiln_pipe_batch_requests r JOIN kiln_pipe_batches b ON b.key = r.batch_key
                WHERE r.request_hash = ANY(\(requestHashes)) AND b.state <> 'refused' AND b.created_at > \(since)
                ORDER BY r.request_hash, b.created_at DESC
                """)
            var found: [String: BatchRecord] = [:]
            for try await (hash, key, provider, state, id, status, requests, completed, failed, note, created, updated)
                in rows.decode(Self.BatchRow.self)
            {
                found[hash] = Self.batch(
                    key, provider, state, id, status, requests, completed, failed, note, created, updated)
            }
            return found
        }
    }

    package func recentBatches(limit: Int) async throws -> [BatchRecord] {
        try await bounded("reading batch submissions") { [client] in
            let rows = try await client.query(
                """
                SELECT '', \(unescaped: Self.batchColumns) FROM kiln_pipe_batches b
                ORDER BY b.created_at DESC LIMIT \(Int64(limit))
                """)
            var found: [BatchRecord] = []
            for try await (_, key, provider, state, id, status, requests, completed, failed, note, created, updated)
                in rows.decode(Self.BatchRow.self)
            {
                found.append(
                    Self.batch(key, provider, state, id, status, requests, completed, failed, note, created, updated))
            }
            return found
        }
    }

    private typealias BatchRow = (
        String, String, String, String, String?, String?, Int64, Int64, Int64, String?, Double, Double
    )

    private static let batchColumns = """
        b.key, b.provider, b.state, b.provider_batch_id, b.provider_status, b.requests, b.completed, b.failed, b.note,
        b.created_at, b.updated_at
        """

    // swift-format-ignore: one parameter per column
    private static func batch(
        _ key: String, _ provider: String, _ state: String, _ id: String?, _ status: String?, _ requests: Int64,
        _ completed: Int64, _ failed: Int64, _ note: String?, _ created: Double, _ updated: Double
    ) -> BatchRecord {
        BatchRecord(
            key: key, provider: provider, state: BatchRecord.State(rawValue: state) ?? .refused, providerBatchID: id,
            providerStatus: status, requests: Int(requests), completed: Int(completed), failed: Int(failed), note: note,
            createdAt: created, updatedAt: updated)
    }
}

/// The deadline's timer, cancelled once the work it guards has answered.
private final class TimerSlot: Sendable {
    let task = Mutex<Task<Void, Never>?>(nil)
}
