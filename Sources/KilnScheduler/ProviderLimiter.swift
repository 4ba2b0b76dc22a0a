import Synchronization

/// One provider's limiter: requests wait here for a concurrency slot, their share of the request and token
/// budgets, and the end of any pause a 429 or the rate-limit headers imposed.
///
/// A waiting request is a closure, not a suspended task: when a slot frees, `release` starts the next request
/// right there (on the thread that freed it) instead of waking a task that would then have to be scheduled
/// before it could send. Requests go in arrival order.
package final class ProviderLimiter: Sendable {
    private struct Waiter {
        var estimatedTokens: Int
        var grant: @Sendable (Double) -> Void
    }

    private struct State {
        var limits: RateLimiterState
        var waiting: [Waiter] = []
        var head = 0
        /// When the pending re-check for a bucket or a pause will run, if one is scheduled.
        var timerDue: Double?
    }

    private let clock: any RunClock
    private let state: Mutex<State>

    package init(
        maxConcurrency: Int, requestsPerMinute: Int?, tokensPerMinute: Int?, burst: Int? = nil,
        clock: any RunClock = SystemClock()
    ) {
        self.clock = clock
        state = Mutex(
            State(
                limits: RateLimiterState(
                    maxConcurrency: maxConcurrency, requestsPerMinute: requestsPerMinute,
                    tokensPerMinute: tokensPerMinute, burst: burst, now: clock.now)))
    }

    /// Calls `grant(grantedAt)` once a request estimated at `estimatedTokens` may go: at once on this thread when
    /// it may, else on the thread that frees a slot or from a timer. `grantedAt` goes back to `release`. The
    /// closure must be quick (start the request, nothing more).
    package func enqueue(estimatedTokens: Int, grant: @escaping @Sendable (Double) -> Void) {
        let now = clock.now
        let (ready, recheck) = state.withLock { state in
            state.waiting.append(Waiter(estimatedTokens: estimatedTokens, grant: grant))
            return Self.takeReady(&state, now: now)
        }
        carryOut(ready, recheck: recheck, now: now)
    }

    /// Reports how a granted request ended and starts whoever may go next.
    package func release(estimatedTokens: Int, outcome: RateLimiterState.Outcome, grantedAt: Double? = nil) {
        let now = clock.now
        let (ready, recheck) = state.withLock { state in
            state.limits.release(now: now, estimatedTokens: estimatedTokens, outcome: outcome, grantedAt: grantedAt)
            return Self.takeReady(&state, now: now)
        }
        carryOut(ready, recheck: recheck, now: now)
    }

    /// Hands back a slot that was granted but not used (the run stopped before the request went out).
    package func abandon(estimatedTokens: Int) {
        release(estimatedTokens: estimatedTokens, outcome: .otherFailure)
    }

    /// Grants the ready waiters (outside the lock) and arms the re-check timer when one is due.
    private func carryOut(_ ready: [(Waiter, Double)], recheck: Double?, now: Double) {
        if let recheck {
            clock.schedule(after: recheck - now) { [self] in
                let now = clock.now
                let (ready, recheck) = state.withLock { state in
                    state.timerDue = nil
                    return Self.takeReady(&state, now: now)
                }
                carryOut(ready, recheck: recheck, now: now)
            }
        }
        for (waiter, time) in ready { waiter.grant(time) }
    }

    /// The waiters that may go now, in order, granted; and the time of a re-check to schedule when a bucket or a
    /// pause holds the first one (unless an earlier one is already due). Called under the lock.
    private static func takeReady(_ state: inout State, now: Double) -> (ready: [(Waiter, Double)], recheck: Double?) {
        var ready: [(Waiter, Double)] = []
        var recheck: Double?
        loop: while state.head < state.waiting.count {
            switch state.limits.acquire(now: now, estimatedTokens: state.waiting[state.head].estimatedTokens) {
            case .granted:
                ready.append((state.waiting[state.head], now))
                state.head += 1
            case .waitForSlot:
                break loop
            case .waitUntil(let time):
                if state.timerDue.map({ $0 > time }) ?? true {
                    state.timerDue = time
                    recheck = time
                }
                break loop
            }
        }
        compact(&state)
        return (ready, recheck)
    }

    private static func compact(_ state: inout State) {
        if state.head == state.waiting.count {
            state.waiting.removeAll(keepingCapacity: true)
            state.head = 0
        } else if state.head > 1024, state.head * 2 > state.waiting.count {
            state.waiting.removeFirst(state.head)
            state.head = 0
        }
    }
}
