import Foundation
import KilnBasics
import KilnModel
import KilnPostgres
import KilnTesting
import Testing

@testable import KilnStore

/// The checkpoint store's contract, proved for each kind of store: an SQLite file, and a PostgreSQL database on a
/// real server on loopback (started once for the test process).
enum StoreKind: String, CaseIterable, Sendable {
    case sqlite
    case postgres

    /// Where a new, empty store of this kind lives.
    func newLocation() throws -> String {
        switch self {
        case .sqlite: CheckpointStoreBehaviour.temporaryPath()
        case .postgres: try PostgresServer.shared.get().createDatabase()
        }
    }

    /// Runs `body` with a store of this kind at `location` (a PostgreSQL store lives as long as the scope).
    func with<Result: Sendable>(
        _ location: String, _ body: (any CheckpointStore) async throws -> Result
    ) async throws -> Result {
        switch self {
        case .sqlite: try await body(try SQLiteCheckpointStore(path: location))
        case .postgres: try await PostgresCheckpointStore.with(url: location) { try await body($0) }
        }
    }

    /// Runs `body` with `count` stores at one location, as if `count` processes had opened it.
    func with(
        _ count: Int, storesAt location: String, _ body: ([any CheckpointStore]) async throws -> Void
    ) async throws {
        func open(_ stores: [any CheckpointStore]) async throws {
            guard stores.count < count else { return try await body(stores) }
            try await with(location) { try await open(stores + [$0]) }
        }
        try await open([])
    }
}

@Suite struct CheckpointStoreBehaviour {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("kiln-store-\(UUID().uuidString)")
            .appendingPathComponent("state.sqlite").path
    }

    static let done = CheckpointRecord(
        key: "k1", stage: "answers", status: .done, item: .object(JSONObject([("output", .string("héllo\n"))])),
        usage: Usage(inputTokens: 10, outputTokens: 5, costUSD: 0.001), latencyMS: 42, attempts: 2,
        calls: [
            RecordedCall(
                requestHash: "r1", provider: "p", request: .object(JSONObject([("model", .string("m"))])),
                response: .object(JSONObject([("id", .string("x"))])))
        ])

    @Test(arguments: StoreKind.allCases)
    func keepsRecordsAcrossReopening(kind: StoreKind) async throws {
        let location = try kind.newLocation()
        try await kind.with(location) { store in
            try await store.write([
                Self.done,
                CheckpointRecord(key: "k2", stage: "answers", status: .failed, error: "HTTP 400: bad request"),
            ])
        }
        try await kind.with(location) { reopened in try await Self.expectTheRecords(in: reopened) }
    }

    static func expectTheRecords(in reopened: any CheckpointStore) async throws {
        let found = try await reopened.records(forKeys: ["k1", "k2", "missing"])
        var expected = Self.done
        expected.calls = []  // records are read without their calls; `calls(forKeys:)` brings them
        #expect(found["k1"] == expected)
        #expect(found["k2"]?.status == .failed && found["k2"]?.error == "HTTP 400: bad request")
        #expect(found["missing"] == nil)
        #expect(try await reopened.calls(forKeys: [Self.done.key])[Self.done.key] == Self.done.calls)
        let tallies = try await reopened.tallies()
        #expect(
            tallies == [
                StageTally(
                    stage: "answers", done: 1, failed: 1, usage: Self.done.usage,
                    recentErrors: ["HTTP 400: bad request"])
            ])
    }

    /// A batch submission is found again by the requests it carries, newest first, across reopening; a refused one
    /// and one older than the providers keep results are not.
    @Test(arguments: StoreKind.allCases)
    func keepsBatchSubmissionsFindableByTheirRequests(kind: StoreKind) async throws {
        let location = try kind.newLocation()
        let now = Date().timeIntervalSince1970
        try await kind.with(location) { store in
            try await store.saveBatch(
                BatchRecord(
                    key: "b1", provider: "p", state: .submitting, requests: 2, createdAt: now - 10,
                    requestHashes: ["h1", "h2"]))
            try await store.saveBatch(
                BatchRecord(
                    key: "old", provider: "p", state: .ended, requests: 1, createdAt: now - 40 * 86_400,
                    requestHashes: ["h3"]))
            try await store.saveBatch(
                BatchRecord(
                    key: "no", provider: "p", state: .refused, requests: 1, note: "HTTP 400", createdAt: now,
                    requestHashes: ["h4"]))
            // Confirmed later: the hashes saved with the first save stay.
            try await store.saveBatch(
                BatchRecord(
                    key: "b1", provider: "p", state: .submitted, providerBatchID: "batch_1",
                    providerStatus: "in_progress",
                    requests: 2, completed: 1, createdAt: now - 10))
            try await store.saveBatch(
                BatchRecord(
                    key: "b2", provider: "p", state: .ended, providerBatchID: "batch_2", requests: 1,
                    createdAt: now - 5, requestHashes: ["h2"]))
        }
        try await kind.with(location) { reopened in try await Self.expectTheBatches(in: reopened) }
    }

    static func expectTheBatches(in reopened: any CheckpointStore) async throws {
        let found = try await reopened.batches(carrying: ["h1", "h2", "h3", "h4", "h5"])
        #expect(found["h1"]?.key == "b1" && found["h1"]?.providerBatchID == "batch_1" && found["h1"]?.completed == 1)
        #expect(found["h1"]?.state == .submitted && found["h1"]?.providerStatus == "in_progress")
        #expect(found["h2"]?.key == "b2", "the newest submission carrying a request")
        #expect(found["h3"] == nil, "older than the providers keep results")
        #expect(found["h4"] == nil, "refused: nothing to poll")
        #expect(found["h5"] == nil)
        let recent = try await reopened.recentBatches(limit: 3)
        #expect(recent.map(\.key) == ["no", "b2", "b1"])
        #expect(recent.first?.note == "HTTP 400" && recent.allSatisfy { $0.requestHashes.isEmpty })
    }

    @Test func aVersion1StoreIsUpgradedAndItsCallsStillRead() async throws {
        let path = Self.temporaryPath()
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        do {
            // The layout kiln-pipe wrote before results kept their calls inline.
            let old = try SQLiteDatabase(path: path)
            try old.execute(
                """
                CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                INSERT INTO meta VALUES ('schema_version', '1');
                CREATE TABLE results(
                    key TEXT PRIMARY KEY, stage TEXT NOT NULL, status TEXT NOT NULL, item TEXT, error TEXT,
                    input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL,
                    latency_ms INTEGER NOT NULL, attempts INTEGER NOT NULL, request_hash TEXT, written_at REAL \
                    NOT NULL);
                CREATE TABLE calls(
                    request_hash TEXT PRIMARY KEY, provider TEXT NOT NULL, request TEXT NOT NULL, response TEXT \
                    NOT NULL);
                INSERT INTO results VALUES ('old', 'answers', 'done', '{"output":"o"}', NULL, 1, 2, 0.5, 3, 1, \
                'h1,h2', 0);
                INSERT INTO calls VALUES ('h1', 'p', '{"model":"m"}', '{"id":"1"}'), ('h2', 'p', \
                '{"model":"n"}', '{"id":"2"}');
                """)
        }
        let store = try SQLiteCheckpointStore(path: path)
        try await store.write([Self.done])
        let calls = try await store.calls(forKeys: ["old", Self.done.key])
        #expect(calls["old"]?.map(\.requestHash) == ["h1", "h2"])
        #expect(calls["old"]?.last?.response == .object(JSONObject([("id", .string("2"))])))
        #expect(calls[Self.done.key] == Self.done.calls)
        #expect(try await store.records(forKeys: ["old"])["old"]?.usage.costUSD == 0.5)
        let version = try SQLiteDatabase(path: path).query("SELECT value FROM meta WHERE key = 'schema_version'")
        #expect(version.first?.first?.text == String(SQLiteCheckpointStore.schemaVersion))
    }

    @Test(arguments: StoreKind.allCases)
    func aRetriedItemReplacesItsFailureEvenInOneBatch(kind: StoreKind) async throws {
        try await kind.with(try kind.newLocation()) { store in
            try await store.write([CheckpointRecord(key: "k1", stage: "answers", status: .failed, error: "timeout")])
            try await store.write([
                CheckpointRecord(key: "k1", stage: "answers", status: .failed, error: "again"), Self.done,
            ])
            #expect(try await store.records(forKeys: ["k1"])["k1"]?.status == .done)
            #expect(try await store.tallies().first?.failed == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentWritersFromSeveralConnectionsNeverLoseARecord(kind: StoreKind) async throws {
        let location = try kind.newLocation()
        // Four stores on one location stand for four shards (or processes) writing at once.
        try await kind.with(4, storesAt: location) { stores in try await Self.writeConcurrently(to: stores) }
    }

    static func writeConcurrently(to stores: [any CheckpointStore]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                let store = stores[index % 4]
                group.addTask {
                    try await store.write([
                        CheckpointRecord(key: "k\(index)", stage: "s", status: .done, item: .integer(index))
                    ])
                }
            }
            try await group.waitForAll()
        }
        let found = try await stores[0].records(forKeys: (0..<200).map { "k\($0)" })
        #expect(found.count == 200)
        #expect(found["k199"]?.item == .integer(199))
    }

    /// Four connections appending to one list at once (shards ending together, each adding its run to the
    /// history): every value stays in it — a read-then-write would lose some.
    @Test(arguments: StoreKind.allCases)
    func appendsFromSeveralConnectionsAreAllKept(kind: StoreKind) async throws {
        let location = try kind.newLocation()
        try await kind.with(4, storesAt: location) { stores in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<100 {
                    let store = stores[index % 4]
                    group.addTask { try await store.append(.integer(index), toListAt: "list", stage: "_runs") }
                }
                try await group.waitForAll()
            }
            let list = try await stores[1].records(forKeys: ["list"])["list"]?.item?.arrayValue ?? []
            #expect(Set(list.compactMap { $0.numberValue.map { Int($0) } }) == Set(0..<100) && list.count == 100)
        }
    }

    @Test func keysAreCanonicalAndComplete() {
        let a = CheckpointKey.make(JSONObject([("input", .string("x")), ("sample", .integer(0))]))
        let reordered = CheckpointKey.make(JSONObject([("sample", .integer(0)), ("input", .string("x"))]))
        let otherSample = CheckpointKey.make(JSONObject([("input", .string("x")), ("sample", .integer(1))]))
        #expect(a == reordered, "key order in the description does not matter")
        #expect(a != otherSample, "repeated samples of one input are distinct units of work")
        #expect(a.count == 64)
    }
}
