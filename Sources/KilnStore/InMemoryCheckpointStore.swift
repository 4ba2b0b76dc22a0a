import Foundation
import KilnModel
import Synchronization

/// A checkpoint store in memory: for tests and for commands that keep no state between runs.
package final class InMemoryCheckpointStore: CheckpointStore {
    private struct State {
        var records: [String: CheckpointRecord] = [:]
        var calls: [String: [RecordedCall]] = [:]
        var batches: [String: BatchRecord] = [:]
        var batchesByRequest: [String: [String]] = [:]
    }
    private let state = Mutex(State())

    package init() {}

    package func records(forKeys keys: [String]) async throws -> [String: CheckpointRecord] {
        state.withLock { state in
            var found: [String: CheckpointRecord] = [:]
            for key in keys { found[key] = state.records[key] }
            return found
        }
    }

    package func write(_ records: [CheckpointRecord]) async throws {
        state.withLock { state in
            for record in records {
                var stored = record
                state.calls[record.key] = record.calls
                stored.calls = []
                state.records[record.key] = stored
            }
        }
    }

    package func tallies() async throws -> [StageTally] {
        let records = state.withLock { $0.records }
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
        state.withLock { state in
            var found: [String: [RecordedCall]] = [:]
            for key in keys where state.records[key] != nil { found[key] = state.calls[key] ?? [] }
            return found
        }
    }

    package func saveBatch(_ batch: BatchRecord) async throws {
        state.withLock { state in
            for hash in batch.requestHashes where !(state.batchesByRequest[hash] ?? []).contains(batch.key) {
                state.batchesByRequest[hash, default: []].append(batch.key)
            }
            var stored = batch
            stored.requestHashes = []
            state.batches[batch.key] = stored
        }
    }

    package func batches(carrying requestHashes: [String]) async throws -> [String: BatchRecord] {
        let since = Date().timeIntervalSince1970 - BatchRecord.resultsLifetimeSeconds
        return state.withLock { state in
            var found: [String: BatchRecord] = [:]
            for hash in requestHashes {
                found[hash] = (state.batchesByRequest[hash] ?? []).compactMap { state.batches[$0] }
                    .filter { $0.state != .refused && $0.createdAt > since }.max { $0.createdAt < $1.createdAt }
            }
            return found
        }
    }

    package func recentBatches(limit: Int) async throws -> [BatchRecord] {
        state.withLock { Array($0.batches.values.sorted { $0.createdAt > $1.createdAt }.prefix(limit)) }
    }
}
