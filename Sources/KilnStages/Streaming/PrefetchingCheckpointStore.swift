package import KilnBasics
package import KilnStore
import Synchronization

/// A unit stage's view of the store: the engine looks up the keys of the next units in one query (`prefetch`),
/// and each unit's own lookup is then answered from memory instead of costing a trip to the store's queue.
/// Every prefetched answer is served once and forgotten, so memory stays bounded by the window.
package final class PrefetchingCheckpointStore: CheckpointStore {
    private let base: any CheckpointStore
    /// Looked-up keys: the record found, or nil when the store has none.
    private let prefetched = Mutex<[String: CheckpointRecord?]>([:])

    package init(_ base: any CheckpointStore) { self.base = base }

    /// Looks up `keys` in one query and keeps the answers (absent ones too) for the units that will ask.
    func prefetch(_ keys: [String]) async {
        guard !keys.isEmpty, let found = try? await base.records(forKeys: keys) else { return }
        prefetched.withLock { prefetched in
            for key in keys { prefetched[key] = .some(found[key]) }
        }
    }

    package func records(forKeys keys: [String]) async throws -> [String: CheckpointRecord] {
        let served = prefetched.withLock { prefetched -> [String: CheckpointRecord]? in
            guard keys.allSatisfy({ prefetched[$0] != nil }) else { return nil }
            var found: [String: CheckpointRecord] = [:]
            for key in keys { found[key] = prefetched.removeValue(forKey: key) ?? nil }
            return found
        }
        if let served { return served }
        return try await base.records(forKeys: keys)
    }

    package func write(_ records: [CheckpointRecord]) async throws { try await base.write(records) }

    package func tallies() async throws -> [StageTally] { try await base.tallies() }

    package func append(_ value: JSONValue, toListAt key: String, stage: String) async throws {
        try await base.append(value, toListAt: key, stage: stage)
    }

    package func waitUntilReady() async throws { try await base.waitUntilReady() }

    package func saveBatch(_ batch: BatchRecord) async throws { try await base.saveBatch(batch) }

    package func batches(carrying requestHashes: [String]) async throws -> [String: BatchRecord] {
        try await base.batches(carrying: requestHashes)
    }

    package func recentBatches(limit: Int) async throws -> [BatchRecord] { try await base.recentBatches(limit: limit) }

    package func calls(forKeys keys: [String]) async throws -> [String: [RecordedCall]] {
        try await base.calls(forKeys: keys)
    }
}
