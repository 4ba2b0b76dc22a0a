import Foundation

/// One provider's limiter: requests wait here for a concurrency slot, their share of the request and token
/// budgets, and the end of any pause a 429 or the rate-limit headers imposed.
///
/// A waiting request is a closure, not a suspended task: when a slot frees, `release` starts the next request
/// right there (on the thread that freed it) instead of waking a task that would then have to be scheduled
/// before it could send. Requests go in arrival order.
package final class ProviderLimiter: @unchecked Sendable {
    // @unchecked Sendable: `state`, `waiting`, `head` and `timerDue` are only touched under `lock`.
    private let lock = NSLock()
    private var state: RateLimiterState
    private let clock: any RunClock
    private var waiting: [Waiter] = []
    private var head = 0
    /// When the pending re-check for a bucket or a pause will run, if one is scheduled.
    private var timerDue: Double?

    private struct Waiter {
        var estimatedTokens: Int
        var grant: @Sendable (Double) -> Void
    }

    package init(
        maxConcurrency: Int, requestsPerMinute: Int?, tokensPerMinute: Int?, clock: any RunClock = SystemClock()
    ) {
        self.clock = clock
        state = RateLimiterState(
            maxConcurrency: maxConcurrency, requestsPerMinute: requestsPerMinute, tokensPerMinute: tokensPerMinute,
            now: clock.now)
    }

    /// Seconds on the limiter's clock.
    private var now: Double { clock.now }

    /// Calls `grant(grantedAt)` once a request estimated at `estimatedTokens` may go: at once on this thread when
    /// it may, else on the thread that frees a slot or from a timer. `grantedAt` goes back to `release`. The
    /// closure must be quick (start the request, nothing more).
    package func enqueue(estimatedTokens: Int, grant: @escaping @Sendable (Double) -> Void) {
        let ready = lock.withLock {
            waiting.append(Waiter(estimatedTokens: estimatedTokens, grant: grant))
            return takeReady()
        }
        for (waiter, time) in ready { waiter.grant(time) }
    }

    /// Reports how a granted request ended and starts whoever may go next.
    package func release(estimatedTokens: Int, outcome: RateLimiterState.Outcome, grantedAt: Double? = nil) {
        let ready = lock.withLock {
            let now = self.now
            state.release(
                now: now, estimatedTokens: estimatedTokens, outcome: outcome, latency: grantedAt.map { now - $0 })
            return takeReady()
        }
        for (waiter, time) in ready { waiter.grant(time) }
    }

    /// Hands back a slot that was granted but not used (the run stopped before the request went out).
    package func abandon(estimatedTokens: Int) {
        release(estimatedTokens: estimatedTokens, outcome: .otherFailure)
    }

    /// The waiters that may go now, in order, granted; schedules a re-check when a bucket or a pause holds the
    /// first one. Called under `lock`.
    private func takeReady() -> [(Waiter, Double)] {
        var ready: [(Waiter, Double)] = []
        let now = self.now
        while head < waiting.count {
            switch state.acquire(now: now, estimatedTokens: waiting[head].estimatedTokens) {
            case .granted:
                ready.append((waiting[head], now))
                head += 1
            case .waitForSlot:
                compact()
                return ready
            case .waitUntil(let time):
                schedule(at: time, now: now)
                compact()
                return ready
            }
        }
        compact()
        return ready
    }

    private func compact() {
        if head == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024, head * 2 > waiting.count {
            waiting.removeFirst(head)
            head = 0
        }
    }

    /// Runs `takeReady` again at `time` (limiter seconds), unless an earlier re-check is already due.
    private func schedule(at time: Double, now: Double) {
        if let due = timerDue, due <= time { return }
        timerDue = time
        clock.schedule(after: time - now) { [self] in
            let ready = lock.withLock {
                timerDue = nil
                return takeReady()
            }
            for (waiter, time) in ready { waiter.grant(time) }
        }
    }
}
