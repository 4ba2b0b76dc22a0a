/// One provider's limiter: requests wait here for a concurrency slot, their share of the request and token
/// budgets, and the end of any pause a 429 or the rate-limit headers imposed.
package actor ProviderLimiter<C: Clock> where C.Duration == Duration {
    private var state: RateLimiterState
    private let clock: C
    private let origin: C.Instant
    private var slotWaiters: [CheckedContinuation<Void, Never>] = []

    package init(maxConcurrency: Int, requestsPerMinute: Int?, tokensPerMinute: Int?, clock: C) {
        self.clock = clock
        origin = clock.now
        state = RateLimiterState(
            maxConcurrency: maxConcurrency, requestsPerMinute: requestsPerMinute, tokensPerMinute: tokensPerMinute,
            now: 0)
    }

    private var now: Double {
        let elapsed = origin.duration(to: clock.now).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
    }

    /// Waits until a request estimated at `estimatedTokens` may be sent, and returns when it was granted (to pass
    /// back to `release`). Throws only on cancellation.
    @discardableResult
    package func acquire(estimatedTokens: Int) async throws -> Double {
        while true {
            try Task.checkCancellation()
            switch state.acquire(now: now, estimatedTokens: estimatedTokens) {
            case .granted:
                return now
            case .waitForSlot:
                await withCheckedContinuation { slotWaiters.append($0) }
            case .waitUntil(let time):
                try await clock.sleep(for: .seconds(max(0, time - now)))
            }
        }
    }

    /// Reports how a granted request ended and wakes whoever may go next.
    package func release(estimatedTokens: Int, outcome: RateLimiterState.Outcome, grantedAt: Double? = nil) {
        let now = self.now
        state.release(now: now, estimatedTokens: estimatedTokens, outcome: outcome, latency: grantedAt.map { now - $0 })
        // Wake as many waiters as there are free slots under the (possibly smaller or larger) limit, oldest first:
        // waking all of them would make every release cost one actor hop per waiting request.
        let free = min(slotWaiters.count, max(0, state.currentLimit - state.inFlight))
        guard free > 0 else { return }
        let woken = slotWaiters.prefix(free)
        slotWaiters.removeFirst(free)
        for waiter in woken { waiter.resume() }
    }

    package var currentLimit: Int { state.currentLimit }
    package var inFlight: Int { state.inFlight }
}
