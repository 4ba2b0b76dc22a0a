import Foundation
import KilnBasics
import KilnModel
import Testing

@testable import KilnStore

@Suite struct SQLiteCheckpointStoreBehaviour {
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

    @Test func keepsRecordsAcrossReopening() async throws {
        let path = Self.temporaryPath()
        do {
            let store = try SQLiteCheckpointStore(path: path)
            try await store.write([
                Self.done, CheckpointRecord(key: "k2", stage: "answers", status: .failed, error: "HTTP 400: bad request"),
            ])
        }
        let reopened = try SQLiteCheckpointStore(path: path)
        let found = try await reopened.records(forKeys: ["k1", "k2", "missing"])
        var expected = Self.done
        expected.calls = []  // calls are kept in their own table
        #expect(found["k1"] == expected)
        #expect(found["k2"]?.status == .failed && found["k2"]?.error == "HTTP 400: bad request")
        #expect(found["missing"] == nil)
        #expect(try await reopened.calls(forKeys: [Self.done.key])[Self.done.key] == Self.done.calls)
        let tallies = try await reopened.tallies()
        #expect(tallies == [StageTally(stage: "answers", done: 1, failed: 1, usage: Self.done.usage, recentErrors: ["HTTP 400: bad request"])])
    }

    @Test func aRetriedItemReplacesItsFailure() async throws {
        let store = try SQLiteCheckpointStore(path: Self.temporaryPath())
        try await store.write([CheckpointRecord(key: "k1", stage: "answers", status: .failed, error: "timeout")])
        try await store.write([Self.done])
        #expect(try await store.records(forKeys: ["k1"])["k1"]?.status == .done)
        #expect(try await store.tallies().first?.failed == 0)
    }

    @Test func concurrentWritersNeverLoseARecord() async throws {
        let store = try SQLiteCheckpointStore(path: Self.temporaryPath())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try await store.write([CheckpointRecord(key: "k\(index)", stage: "s", status: .done, item: .integer(index))])
                }
            }
            try await group.waitForAll()
        }
        let found = try await store.records(forKeys: (0..<200).map { "k\($0)" })
        #expect(found.count == 200)
        #expect(found["k199"]?.item == .integer(199))
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
