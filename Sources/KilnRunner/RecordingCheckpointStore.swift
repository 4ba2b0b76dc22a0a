import Foundation
import KilnBasics
import KilnStages
import KilnStore
import Synchronization

/// Passes everything to a store and notes every record it served: the records a run's outputs depend on, which
/// is what `freeze` puts in the cassette.
final class RecordingCheckpointStore: CheckpointStore {
    private let base: any CheckpointStore
    private let served = Mutex<[String: CheckpointRecord]>([:])

    init(_ base: any CheckpointStore) { self.base = base }

    func records(forKeys keys: [String]) async throws -> [String: CheckpointRecord] {
        let found = try await base.records(forKeys: keys)
        served.withLock { $0.merge(found) { $1 } }
        return found
    }

    func write(_ records: [CheckpointRecord]) async throws { try await base.write(records) }

    func tallies() async throws -> [StageTally] { try await base.tallies() }

    func append(_ value: JSONValue, toListAt key: String, stage: String) async throws {
        try await base.append(value, toListAt: key, stage: stage)
    }

    func waitUntilReady() async throws { try await base.waitUntilReady() }

    func saveBatch(_ batch: BatchRecord) async throws { try await base.saveBatch(batch) }

    func batches(carrying requestHashes: [String]) async throws -> [String: BatchRecord] {
        try await base.batches(carrying: requestHashes)
    }

    func recentBatches(limit: Int) async throws -> [BatchRecord] { try await base.recentBatches(limit: limit) }

    func calls(forKeys keys: [String]) async throws -> [String: [RecordedCall]] { try await base.calls(forKeys: keys) }

    /// The records served so far, with their calls.
    func servedRecords() async throws -> [CheckpointRecord] {
        let records = served.withLock { Array($0.values) }
        let calls = try await base.calls(forKeys: records.map(\.key))
        return records.map { record in
            var record = record
            record.calls = calls[record.key] ?? []
            return record
        }
    }
}
