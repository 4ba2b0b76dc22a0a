package import KilnScheduler
import Synchronization

/// The writes waiting for a store's next commit, and whether a commit is under way: writes that arrive while one
/// commits are grouped into the next transaction (group commit), whatever the database.
package final class GroupCommit: Sendable {
    package typealias Write = (records: [CheckpointRecord], done: CheckedContinuation<Void, any Error>)
    private struct State {
        var pending: [(id: Int, records: [CheckpointRecord])] = []
        var draining = false
        var lastCommit: Double
        var nextID = 0
        /// Writers waiting for their transaction's outcome, by write id.
        var waiting: [Int: CheckedContinuation<Void, any Error>] = [:]
        /// Outcomes that came before their writer asked (`write`'s own drainer), by write id.
        var outcomes: [Int: Result<Void, any Error>] = [:]

        mutating func enqueue(_ records: [CheckpointRecord]) -> (id: Int, startDraining: Bool) {
            nextID += 1
            pending.append((nextID, records))
            defer { draining = true }
            return (nextID, !draining)
        }
    }
    private let clock: any RunClock
    private let state: Mutex<State>

    package init(clock: any RunClock = SystemClock()) {
        self.clock = clock
        state = Mutex(State(lastCommit: clock.now - 1))
    }

    /// Adds a write. `startDraining` is true when no commit is under way: the caller must then start `drain`.
    /// `sinceLastCommit` tells a stream of writes (which may wait for company) from a lone one.
    package func add(_ write: Write) -> (startDraining: Bool, sinceLastCommit: Duration) {
        let now = clock.now
        return state.withLock { state in
            let (id, startDraining) = state.enqueue(write.records)
            state.waiting[id] = write.done
            return (startDraining, .seconds(now - state.lastCommit))
        }
    }

    /// Writes `records` in the next commit and returns once it is durable (or throws its error). The writer that
    /// finds no commit under way runs the commits itself, in its own task, until nothing is pending: no task of
    /// the store's own outlives a write.
    package func write(
        _ records: [CheckpointRecord], commit: ([CheckpointRecord]) async -> Result<Void, any Error>
    ) async throws {
        let (id, startDraining) = state.withLock { $0.enqueue(records) }
        if startDraining { await drain(commit) }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome = state.withLock { state -> Result<Void, any Error>? in
                if let outcome = state.outcomes.removeValue(forKey: id) { return outcome }
                state.waiting[id] = continuation
                return nil
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    /// Commits everything pending with `commit`, one transaction per turn, until nothing is left; each write
    /// learns its transaction's outcome.
    package func drain(_ commit: ([CheckpointRecord]) async -> Result<Void, any Error>) async {
        while let batch = take() {
            finish(batch, with: await commit(batch.flatMap(\.records)))
        }
    }

    /// `drain` for a store whose commits block (run on its own queue).
    package func drainBlocking(_ commit: ([CheckpointRecord]) -> Result<Void, any Error>) {
        while let batch = take() {
            finish(batch, with: commit(batch.flatMap(\.records)))
        }
    }

    private func finish(_ batch: [(id: Int, records: [CheckpointRecord])], with result: Result<Void, any Error>) {
        let now = clock.now
        let waiters = state.withLock { state in
            state.lastCommit = now
            return batch.compactMap { write -> CheckedContinuation<Void, any Error>? in
                guard let waiter = state.waiting.removeValue(forKey: write.id) else {
                    state.outcomes[write.id] = result
                    return nil
                }
                return waiter
            }
        }
        for waiter in waiters { waiter.resume(with: result) }
    }

    /// Writes waiting for the next commit (for tests and progress).
    package var queuedWrites: Int { state.withLock { $0.pending.count } }

    /// Everything pending, or nil (and draining ends) when nothing is.
    private func take() -> [(id: Int, records: [CheckpointRecord])]? {
        state.withLock { state in
            defer { state.pending.removeAll() }
            if state.pending.isEmpty { state.draining = false }
            return state.pending.isEmpty ? nil : state.pending
        }
    }
}
