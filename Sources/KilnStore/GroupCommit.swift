import Foundation

/// The writes waiting for a store's next commit, and whether a commit is under way: writes that arrive while one
/// commits are grouped into the next transaction (group commit), whatever the database.
package final class GroupCommit: @unchecked Sendable {
    // @unchecked Sendable: every property is only touched under `lock`.
    package typealias Write = (records: [CheckpointRecord], done: CheckedContinuation<Void, any Error>)
    private let lock = NSLock()
    private var pending: [Write] = []
    private var draining = false
    private var lastCommit = ContinuousClock.now - .seconds(1)

    package init() {}

    /// Adds a write. `startDraining` is true when no commit is under way: the caller must then start `drain`.
    /// `sinceLastCommit` tells a stream of writes (which may wait for company) from a lone one.
    package func add(_ write: Write) -> (startDraining: Bool, sinceLastCommit: Duration) {
        lock.withLock {
            pending.append(write)
            defer { draining = true }
            return (!draining, ContinuousClock.now - lastCommit)
        }
    }

    /// Commits everything pending with `commit`, one transaction per turn, until nothing is left; each write's
    /// continuation gets its transaction's outcome.
    package func drain(_ commit: ([CheckpointRecord]) async -> Result<Void, any Error>) async {
        while let batch = take() {
            let result = await commit(batch.flatMap(\.records))
            lock.withLock { lastCommit = .now }
            for write in batch { write.done.resume(with: result) }
        }
    }

    /// `drain` for a store whose commits block (run on its own queue).
    package func drainBlocking(_ commit: ([CheckpointRecord]) -> Result<Void, any Error>) {
        while let batch = take() {
            let result = commit(batch.flatMap(\.records))
            lock.withLock { lastCommit = .now }
            for write in batch { write.done.resume(with: result) }
        }
    }

    /// Everything pending, or nil (and draining ends) when nothing is.
    private func take() -> [Write]? {
        lock.withLock {
            defer { pending.removeAll() }
            if pending.isEmpty { draining = false }
            return pending.isEmpty ? nil : pending
        }
    }
}
