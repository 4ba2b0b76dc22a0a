import Foundation
import KilnBasics
import KilnModel
import KilnPostgres
import KilnStore
import KilnTesting
import Testing

/// The PostgreSQL store keeps the checkpoint store's contract (what the SQLite store's tests prove), against a
/// real server on loopback that the suite starts; and a bad URL or an unreachable server is a clear error.
@Suite(.serialized) struct PostgresCheckpointStoreBehaviour {
    static let server = Result { try PostgresServer() }

    static func store() throws -> PostgresCheckpointStore {
        try PostgresCheckpointStore(url: try server.get().createDatabase())
    }

    static let done = CheckpointRecord(
        key: "k1", stage: "answers", status: .done, item: .object(JSONObject([("output", .string("héllo\n'\"; DROP"))])),
        usage: Usage(inputTokens: 10, outputTokens: 5, costUSD: 0.001), latencyMS: 42, attempts: 2,
        calls: [
            RecordedCall(
                requestHash: "r1", provider: "p", request: .object(JSONObject([("model", .string("m"))])),
                response: .object(JSONObject([("id", .string("x"))])))
        ])

    @Test func keepsRecordsAcrossConnections() async throws {
        let url = try Self.server.get().createDatabase()
        do {
            let store = try PostgresCheckpointStore(url: url)
            try await store.write([
                Self.done, CheckpointRecord(key: "k2", stage: "answers", status: .failed, error: "HTTP 400: bad request"),
            ])
            store.close()
        }
        let reopened = try PostgresCheckpointStore(url: url)
        defer { reopened.close() }
        let found = try await reopened.records(forKeys: ["k1", "k2", "missing"])
        var expected = Self.done
        expected.calls = []  // records are read without their calls; `calls(forKeys:)` brings them
        #expect(found["k1"] == expected)
        #expect(found["k2"]?.status == .failed && found["k2"]?.error == "HTTP 400: bad request")
        #expect(found["missing"] == nil)
        #expect(try await reopened.calls(forKeys: [Self.done.key])[Self.done.key] == Self.done.calls)
        let tallies = try await reopened.tallies()
        #expect(
            tallies == [StageTally(stage: "answers", done: 1, failed: 1, usage: Self.done.usage, recentErrors: ["HTTP 400: bad request"])])
    }

    @Test func aRetriedItemReplacesItsFailureEvenInOneBatch() async throws {
        let store = try Self.store()
        defer { store.close() }
        try await store.write([CheckpointRecord(key: "k1", stage: "answers", status: .failed, error: "timeout")])
        try await store.write([CheckpointRecord(key: "k1", stage: "answers", status: .failed, error: "again"), Self.done])
        #expect(try await store.records(forKeys: ["k1"])["k1"]?.status == .done)
        #expect(try await store.tallies().first?.failed == 0)
    }

    @Test func concurrentWritersFromSeveralStoresNeverLoseARecord() async throws {
        let url = try Self.server.get().createDatabase()
        // Four stores on one database stand for four shards starting at once (the schema is created once).
        let stores = try (0..<4).map { _ in try PostgresCheckpointStore(url: url) }
        defer { for store in stores { store.close() } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<400 {
                let store = stores[index % 4]
                group.addTask {
                    try await store.write([CheckpointRecord(key: "k\(index)", stage: "s", status: .done, item: .integer(index))])
                }
            }
            try await group.waitForAll()
        }
        let found = try await stores[0].records(forKeys: (0..<400).map { "k\($0)" })
        #expect(found.count == 400)
        #expect(found["k399"]?.item == .integer(399))
    }

    /// URLs that cannot name a store, and what the error must say.
    static let badURLs: [(url: String, says: String)] = [
        ("postgres://", "names no host"),
        ("postgres://u:hunter2@localhost/db?sslmode=sometimes", "sslmode=sometimes"),
        ("postgres://u@localhost/db?connect_timeout=soon", "connect_timeout=soon"),
    ]

    @Test(arguments: badURLs)
    func aBadURLIsRejectedWithoutItsPassword(url: String, says: String) {
        #expect {
            _ = try PostgresCheckpointStore(url: url)
        } throws: { error in
            let text = "\(error)"
            return text.contains(says) && !text.contains("hunter2")
        }
    }

    @Test func anUnreachableServerIsAClearErrorWithoutThePassword() async throws {
        let server = try Self.server.get()
        // Nothing listens on port 1; a wrong database on the real server is the server's own message.
        let unreachable = try PostgresCheckpointStore(url: "postgres://kiln:hunter2@127.0.0.1:1/db?sslmode=disable&connect_timeout=3")
        await #expect {
            _ = try await unreachable.tallies()
        } throws: { error in
            let text = "\(error)"
            return text.contains("127.0.0.1:1") && !text.contains("hunter2")
        }
        let missing = try PostgresCheckpointStore(url: "postgres://kiln@127.0.0.1:\(server.port)/no_such_db?sslmode=disable")
        defer { missing.close() }
        await #expect {
            _ = try await missing.records(forKeys: ["k"])
        } throws: { error in
            "\(error)".contains("no_such_db") && "\(error)".contains("createdb")
        }
    }
}
