import Foundation
import KilnModel

/// A checkpoint store in memory: for tests and for commands that keep no state between runs.
package final class InMemoryCheckpointStore: CheckpointStore, @unchecked Sendable {
    // @unchecked Sendable: `records` and `calls` are only touched under `lock`.
    private let lock = NSLock()
    private var records: [String: CheckpointRecord] = [:]
    private var calls: [String: [RecordedCall]] = [:]
    private var batches: [String: BatchRecord] = [:]
    private var batchesByRequest: [String: [String]] = [:]

    package init() {}

    package func records(forKeys keys: [String]) async throws -> [String: CheckpointRecord] {
        lock.withLock {
            var found: [String: CheckpointRecord] = [:]
            for key in keys { found[key] = records[key] }
            return found
        }
    }

    package func write(_ records: [CheckpointRecord]) async throws {
        lock.withLock {
            for record in records {
                var stored = record
                calls[record.key] = record.calls
                stored.calls = []
                self.records[record.key] = stored
            }
        }
    }

    package func tallies() async throws -> [StageTally] {
        let records = lock.withLock { self.records }
        var tallies: [String: StageTally] = [:]
        for record in records.values {
            var tally = tallies[record.stage] ?? StageTally(stage: record.stage)
            if record.status == .done { tally.done += 1 } else { tally.failed += 1 }
            tally.usage += record.usage
            tallies[record.stage] = tally
        }
        return tallies.values.sorted { $0.stage < $1.stage }
    }

    package func calls(forKeys keys: [String]) async throws -> [String: [RecordedCall]] {
        lock.withLock {
            var found: [String: [RecordedCall]] = [:]
            for key in keys where records[key] != nil { found[key] = calls[key] ?? [] }
            return found
        }
    }

    package func saveBatch(_ batch: BatchRecord) async throws {
        lock.withLock {
            for hash in batch.requestHashes where !(batchesByRequest[hash] ?? []).contains(batch.key) {
                batchesByRequest[hash, default: []].append(batch.key)
            }
            var stored = batch
            stored.requestHashes = []
            batches[batch.key] = stored
        }
    }

    package func batches(carrying requestHashes: [String]) async throws -> [String: BatchRecord] {
        let since = Date().timeIntervalSince1970 - BatchRecord.resultsLifetimeSeconds
        return lock.withLock {
            var found: [String: BatchRecord] = [:]
            for hash in requestHashes {
                found[hash] = (batchesByRequest[hash] ?? []).compactMap { batches[$0] }
                    .filter { $0.state != .refused && $0.createdAt > since }.max { $0.createdAt < $1.createdAt }
            }
            return found
        }
    }

    package func recentBatches(limit: Int) async throws -> [BatchRecord] {
        lock.withLock { Array(batches.values.sorted { $0.createdAt > $1.createdAt }.prefix(limit)) }
    }
}
