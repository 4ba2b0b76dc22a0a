package import KilnScheduler
import Synchronization

/// The writes waiting for a store's next commit, and whether a commit is under way: writes that arrive while one
/// commits are grouped into the next transaction (group commit), whatever the database.
package final class GroupCommit: Sendable {
    package typealias Write = (records: [CheckpointRecord], done: CheckedContinuation<Void, any Error>)
    private struct State {
        var pending: [Write] = []
        var draining = false
        var lastCommit: Double
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
            state.pending.append(write)
            defer { state.draining = true }
            return (!state.draining, .seconds(now - state.lastCommit))
        }
    }

    /// Commits everything pending with `commit`, one transaction per turn, until nothing is left; each write's
    /// continuation gets its transaction's outcome.
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

    private func finish(_ batch: [Write], with result: Result<Void, any Error>) {
        let now = clock.now
        state.withLock { $0.lastCommit = now }
        for write in batch { write.done.resume(with: result) }
    }

    /// Everything pending, or nil (and draining ends) when nothing is.
    private func take() -> [Write]? {
        state.withLock { state in
            defer { state.pending.removeAll() }
            if state.pending.isEmpty { state.draining = false }
            return state.pending.isEmpty ? nil : state.pending
        }
    }
}
