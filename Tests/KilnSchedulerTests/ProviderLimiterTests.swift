import KilnScheduler
import Synchronization
import Testing

/// The limiter around `RateLimiterState`, on a manual clock: who is granted when, in what order, and that a timer
/// (not a sleeping task) starts a request held by a bucket or a pause. Nothing sleeps.
@Suite struct ProviderLimiterBehaviour {
    /// Grants in the order they happened, with the limiter time of each.
    final class Grants: Sendable {
        private let log = Mutex<[(id: Int, at: Double)]>([])
        var ids: [Int] { log.withLock { $0.map(\.id) } }
        var times: [Double] { log.withLock { $0.map(\.at) } }
        func record(_ id: Int, _ at: Double) { log.withLock { $0.append((id, at)) } }
    }

    @Test func grantsUpToTheConcurrencyThenOneForEachRelease() {
        let clock = ManualClock()
        let limiter = ProviderLimiter(maxConcurrency: 2, requestsPerMinute: nil, tokensPerMinute: nil, clock: clock)
        let grants = Grants()
        for id in 0..<5 { limiter.enqueue(estimatedTokens: 10) { grants.record(id, $0) } }
        #expect(grants.ids == [0, 1])
        limiter.release(estimatedTokens: 10, outcome: .success(tokens: 10), grantedAt: 0)
        #expect(grants.ids == [0, 1, 2], "a release starts the next waiter, in arrival order")
        limiter.abandon(estimatedTokens: 10)
        limiter.release(estimatedTokens: 10, outcome: .otherFailure)
        #expect(grants.ids == [0, 1, 2, 3, 4])
    }

    @Test func aRequestBucketHoldsTheNextRequestUntilATimerGrantsIt() {
        let clock = ManualClock()
        // 60 a minute: one a second (plus the 1% margin), with a burst of one.
        let limiter = ProviderLimiter(maxConcurrency: 8, requestsPerMinute: 60, tokensPerMinute: nil, clock: clock)
        let grants = Grants()
        for id in 0..<3 { limiter.enqueue(estimatedTokens: 1) { grants.record(id, $0) } }
        #expect(grants.ids == [0])
        #expect(clock.waiting == 1, "one re-check is scheduled, not one per waiter")
        clock.advance(by: 0.5)
        #expect(grants.ids == [0])
        clock.advance(by: 0.51)
        #expect(grants.ids == [0, 1])
        clock.advance(by: 1.01)
        #expect(grants.ids == [0, 1, 2])
        #expect(zip(grants.times, [0, 1.01, 2.02]).allSatisfy { abs($0 - $1) < 1e-9 }, "\(grants.times)")
    }

    @Test func an429EpisodeWithRetryAfterPausesEveryone() {
        let clock = ManualClock()
        let limiter = ProviderLimiter(maxConcurrency: 4, requestsPerMinute: nil, tokensPerMinute: nil, clock: clock)
        let grants = Grants()
        for id in 0..<3 { limiter.enqueue(estimatedTokens: 1) { grants.record(id, $0) } }
        for _ in 0..<3 { limiter.release(estimatedTokens: 1, outcome: .rateLimited(retryAfter: 5), grantedAt: 0) }
        limiter.enqueue(estimatedTokens: 1) { grants.record(3, $0) }
        limiter.enqueue(estimatedTokens: 1) { grants.record(4, $0) }
        #expect(grants.ids == [0, 1, 2], "nobody goes during the pause")
        clock.advance(by: 4.9)
        #expect(grants.ids == [0, 1, 2])
        clock.advance(by: 0.1)
        #expect(grants.ids.prefix(4) == [0, 1, 2, 3])
        #expect(grants.times.dropFirst(3).allSatisfy { $0 >= 5 })
    }
}
