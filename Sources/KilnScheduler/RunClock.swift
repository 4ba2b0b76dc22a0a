import Dispatch
import Synchronization

/// Time as the scheduler sees it: seconds since an arbitrary origin, waits and timers. A run uses `SystemClock`;
/// tests use `ManualClock`, which moves only when told, so retry, rate-limit, group-commit and batch decisions are
/// tested without sleeping.
package protocol RunClock: Sendable {
    /// Seconds since the clock's origin (monotonic).
    var now: Double { get }
    /// Waits `seconds` (returns early when the task is cancelled).
    func sleep(seconds: Double) async
    /// Runs `work` once, `seconds` from now, on a thread of the clock's choosing; `work` must be quick.
    func schedule(after seconds: Double, _ work: @escaping @Sendable () -> Void)
}

/// The real clock: `ContinuousClock` (which keeps counting while the machine sleeps) and Dispatch timers.
package struct SystemClock: RunClock {
    private let origin = ContinuousClock.now

    package init() {}

    package var now: Double {
        let elapsed = ContinuousClock.now - origin
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    package func sleep(seconds: Double) async {
        guard seconds > 0 else { return }
        try? await Task.sleep(for: .seconds(seconds))
    }

    package func schedule(after seconds: Double, _ work: @escaping @Sendable () -> Void) {
        DispatchQueue.global().asyncAfter(deadline: .now() + max(0, seconds), execute: work)
    }
}

/// A clock that stands still until `advance(by:)`: sleepers and timers due by then run, in due order. Tests wait
/// for the code under test to reach a sleep with `nextSleep()` instead of sleeping themselves.
package final class ManualClock: RunClock {
    private struct State {
        var now = 0.0
        var sequence = 0
        /// Sleeps and timers, by due time then arrival.
        var due: [(time: Double, sequence: Int, fire: @Sendable () -> Void)] = []
        /// The durations asked of `sleep` that `nextSleep()` has not handed out yet.
        var sleeps: [Double] = []
        var sleepWatchers: [CheckedContinuation<Double, Never>] = []
    }
    private let state = Mutex(State())

    package init() {}

    package var now: Double { state.withLock { $0.now } }

    /// Waits until the clock is advanced past `seconds` from now, or the task is cancelled.
    package func sleep(seconds: Double) async {
        let id = state.withLock { state in
            state.sequence += 1
            return state.sequence
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let (watcher, cancelled) = state.withLock { state -> (CheckedContinuation<Double, Never>?, Bool) in
                    guard !Task.isCancelled else { return (nil, true) }
                    state.due.append((state.now + max(0, seconds), id, { continuation.resume() }))
                    guard !state.sleepWatchers.isEmpty else {
                        state.sleeps.append(seconds)
                        return (nil, false)
                    }
                    return (state.sleepWatchers.removeFirst(), false)
                }
                if cancelled { return continuation.resume() }
                watcher?.resume(returning: seconds)
            }
        } onCancel: {
            let fire = state.withLock { state -> (@Sendable () -> Void)? in
                guard let index = state.due.firstIndex(where: { $0.sequence == id }) else { return nil }
                return state.due.remove(at: index).fire
            }
            fire?()
        }
    }

    package func schedule(after seconds: Double, _ work: @escaping @Sendable () -> Void) {
        state.withLock { state in
            state.sequence += 1
            state.due.append((state.now + max(0, seconds), state.sequence, work))
        }
    }

    /// Waits until the code under test starts a `sleep`, and returns how long it asked to sleep.
    package func nextSleep() async -> Double {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Double? in
                guard !state.sleeps.isEmpty else {
                    state.sleepWatchers.append(continuation)
                    return nil
                }
                return state.sleeps.removeFirst()
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Moves time on by `seconds` and runs everything due by then (sleepers resume, timers fire) in due order.
    package func advance(by seconds: Double) {
        let fired = state.withLock { state -> [@Sendable () -> Void] in
            state.now += seconds
            let now = state.now
            let due = state.due.filter { $0.time <= now }.sorted { ($0.time, $0.sequence) < ($1.time, $1.sequence) }
            state.due.removeAll { $0.time <= now }
            return due.map(\.fire)
        }
        for fire in fired { fire() }
    }

    /// How many sleeps and timers are waiting.
    package var waiting: Int { state.withLock { $0.due.count } }
}
