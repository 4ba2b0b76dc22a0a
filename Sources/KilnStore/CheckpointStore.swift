package import KilnBasics

/// Where finished work is kept so a rerun resumes instead of paying again. SQLite locally; a shared PostgreSQL
/// store for sharded runs can implement the same protocol.
package protocol CheckpointStore: Sendable {
    /// The finished records among `keys` (done or failed), by key.
    func records(forKeys keys: [String]) async throws -> [String: CheckpointRecord]
    /// Writes records durably before returning; a record replaces an earlier one with the same key.
    func write(_ records: [CheckpointRecord]) async throws
    /// Totals per stage.
    func tallies() async throws -> [StageTally]
    /// The provider calls each record among `keys` came from, in the order they were made (for cassettes).
    func calls(forKeys keys: [String]) async throws -> [String: [RecordedCall]]
    /// Returns once the store can be used, or throws what stands in the way (a database that cannot be reached):
    /// a run checks it before its first call, so that no answer is paid for and then lost.
    func waitUntilReady() async throws

    /// Saves a batch submission (replacing the earlier record with its key); its request hashes are kept with the
    /// first save that lists them. Durable when it returns.
    func saveBatch(_ batch: BatchRecord) async throws
    /// For each of `requestHashes` carried by a submission that was not refused and whose results may still be
    /// read, the newest such submission (without its hashes).
    func batches(carrying requestHashes: [String]) async throws -> [String: BatchRecord]
    /// The newest submissions first, at most `limit` (for `status`).
    func recentBatches(limit: Int) async throws -> [BatchRecord]
    /// Adds `value` to the JSON list kept under `key` (a done record of `stage`, made when missing) in one step:
    /// two processes appending at once both stay in the list. Durable when it returns.
    func append(_ value: JSONValue, toListAt key: String, stage: String) async throws
}

extension CheckpointStore {
    /// A local file is ready once opened.
    package func waitUntilReady() async throws {}

    /// Read, then write: right for a store only this process uses.
    package func append(_ value: JSONValue, toListAt key: String, stage: String) async throws {
        let list = try await records(forKeys: [key])[key]?.item?.arrayValue ?? []
        try await write([CheckpointRecord(key: key, stage: stage, status: .done, item: .array(list + [value]))])
    }
}

/// Builds content addresses: the SHA-256 of a canonical JSON document (keys sorted) describing the unit of work.
package enum CheckpointKey {
    package static func make(_ components: JSONObject) -> String {
        SHA256.hex(JSONValue.object(components).serialized(sortedKeys: true))
    }
}
