package import KilnScheduler
import Synchronization

/// Set on Ctrl-C (or a budget, quota or fatal error): nothing new is dispatched after it, and waits between
/// attempts end at once. Read before every dispatch, so it is a mutex, not an actor.
package final class StopFlag: Sendable {
    private struct State {
        var isSet = false
        var sequence = 0
        /// Waits that end when the flag is set, by id.
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }
    private let state = Mutex(State())

    package init() {}

    package var isSet: Bool { state.withLock { $0.isSet } }

    package func set() {
        let waiters = state.withLock { state in
            state.isSet = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits `seconds` on `clock`; returns false as soon as the flag is set (or the task is cancelled).
    package func sleep(seconds: Double, on clock: any RunClock) async -> Bool {
        guard !isSet else { return false }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await clock.sleep(seconds: seconds) }
            group.addTask { await self.waitUntilSet() }
            await group.next()
            group.cancelAll()
        }
        return !isSet && !Task.isCancelled
    }

    /// Returns once the flag is set, or when the task is cancelled.
    private func waitUntilSet() async {
        let id = state.withLock { state in
            state.sequence += 1
            return state.sequence
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    guard !state.isSet, !Task.isCancelled else { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
