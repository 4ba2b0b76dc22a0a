import Testing

@testable import KilnScheduler

@Suite struct AdaptiveConcurrency {
    @Test func grantsUpToTheLimitThenWaitsForASlot() {
        var state = RateLimiterState(maxConcurrency: 3, requestsPerMinute: nil, tokensPerMinute: nil, now: 0)
        #expect((0..<3).map { _ in state.acquire(now: 0, estimatedTokens: 10) } == [.granted, .granted, .granted])
        #expect(state.acquire(now: 0, estimatedTokens: 10) == .waitForSlot)
        state.release(now: 0.1, estimatedTokens: 10, outcome: .success(tokens: 10))
        #expect(state.acquire(now: 0.1, estimatedTokens: 10) == .granted)
    }

    @Test func a429EpisodeHalvesOnceAndCleanAnswersGrowItBack() {
        var state = RateLimiterState(maxConcurrency: 64, requestsPerMinute: nil, tokensPerMinute: nil, now: 0)
        for _ in 0..<64 { _ = state.acquire(now: 0, estimatedTokens: 1) }
        // Twenty 429s of requests that were in flight together count as one episode.
        for _ in 0..<20 { state.release(now: 0.5, estimatedTokens: 1, outcome: .rateLimited(retryAfter: nil)) }
        #expect(state.currentLimit == 32)
        // Later episodes halve again, never below the floor (max / 16).
        for second in 2..<10 {
            state.release(now: Double(second), estimatedTokens: 1, outcome: .rateLimited(retryAfter: nil))
        }
        #expect(state.currentLimit == 4)
        // Additive increase: back to 64 only after many clean answers, never above it.
        var answers = 0
        while state.currentLimit < 64 {
            _ = state.acquire(now: 20, estimatedTokens: 1)
            state.release(now: 20, estimatedTokens: 1, outcome: .success(tokens: 1))
            answers += 1
        }
        #expect(answers > 500)
        for _ in 0..<1000 { state.release(now: 30, estimatedTokens: 1, outcome: .success(tokens: 1)) }
        #expect(state.currentLimit == 64)
    }

    @Test func a429HalvesTheRateTheProviderWasOfferedThenTheRateGrowsBackSlowly() {
        var state = RateLimiterState(maxConcurrency: 1000, requestsPerMinute: nil, tokensPerMinute: nil, now: 0)
        #expect(state.learntRate == nil, "no rate limit until the provider refuses")
        // 100 requests offered within the last second, then a 429.
        for index in 0..<100 { #expect(state.acquire(now: Double(index) / 100, estimatedTokens: 1) == .granted) }
        state.release(now: 0.995, estimatedTokens: 1, outcome: .rateLimited(retryAfter: nil))
        #expect(state.learntRate == 50)
        // Now requests are spaced 20 ms apart.
        #expect(state.acquire(now: 1.0, estimatedTokens: 1) == .granted)
        #expect(state.acquire(now: 1.001, estimatedTokens: 1) == .waitUntil(1.02))
        // Clean answers raise it by about 5% a second: 50 answers at 50/s -> about 52.5.
        for _ in 0..<50 { state.release(now: 2, estimatedTokens: 1, outcome: .success(tokens: 1)) }
        #expect(abs((state.learntRate ?? 0) - 52.5) < 0.1)
        // A second 429 within the same second does not cut again: the first cut has not shown yet.
        state.release(now: 1.5, estimatedTokens: 1, outcome: .rateLimited(retryAfter: nil))
        #expect(abs((state.learntRate ?? 0) - 52.5) < 0.1)
        // A 429 in a later episode halves what was offered since, never below the minimum.
        for second in 0..<30 {
            state.release(now: Double(3 + second), estimatedTokens: 1, outcome: .rateLimited(retryAfter: nil))
        }
        #expect(state.learntRate == RateLimiterState.minimumRate)
    }

    @Test func serverErrorsDoNotShrinkConcurrency() {
        var state = RateLimiterState(maxConcurrency: 16, requestsPerMinute: nil, tokensPerMinute: nil, now: 0)
        for second in 0..<10 {
            _ = state.acquire(now: Double(second), estimatedTokens: 1)
            state.release(now: Double(second), estimatedTokens: 1, outcome: .otherFailure)
        }
        #expect(state.currentLimit == 16)
    }

    /// A 429 with Retry-After among answers that succeed (5% of them, say) delays only its own request: no pause
    /// for everyone, no cut, no inferred rate (before: each one paused the provider, a run 8x slower).
    @Test func aSporadicRetryAfterDelaysOnlyItsRequest() {
        var state = RateLimiterState(maxConcurrency: 100, requestsPerMinute: nil, tokensPerMinute: nil, now: 0)
        for index in 0..<50 { _ = state.acquire(now: Double(index) / 50, estimatedTokens: 1) }
        for _ in 0..<19 { state.release(now: 1, estimatedTokens: 1, outcome: .success(tokens: 1)) }
        state.release(now: 1, estimatedTokens: 1, outcome: .rateLimited(retryAfter: 2), grantedAt: 0.5)
        #expect(state.learntRate == nil, "the provider said how long to wait: no rate is inferred")
        #expect(state.currentLimit == 100)
        #expect(state.acquire(now: 1, estimatedTokens: 1) == .granted)
    }

    /// Refusals that come together are an episode: everyone pauses as told, concurrency is cut once, and a 429 of a
    /// request that was in flight when the pause began never extends it.
    @Test func aRetryAfterEpisodePausesEveryRequestOnce() {
        var state = RateLimiterState(maxConcurrency: 8, requestsPerMinute: nil, tokensPerMinute: nil, now: 0)
        for _ in 0..<8 { _ = state.acquire(now: 0, estimatedTokens: 1) }
        for _ in 0..<2 { state.release(now: 1, estimatedTokens: 1, outcome: .rateLimited(retryAfter: 7), grantedAt: 0) }
        #expect(state.acquire(now: 1, estimatedTokens: 1) == .granted, "two refusals are not yet an episode")
        state.release(now: 1, estimatedTokens: 1, outcome: .rateLimited(retryAfter: 7), grantedAt: 0)
        #expect(state.acquire(now: 2, estimatedTokens: 1) == .waitUntil(8))
        #expect(state.currentLimit == 4, "cut once")
        // The other requests sent at 0 come back refused during the pause: neither longer nor another cut.
        for _ in 0..<4 { state.release(now: 3, estimatedTokens: 1, outcome: .rateLimited(retryAfter: 7), grantedAt: 0) }
        #expect(state.acquire(now: 3, estimatedTokens: 1) == .waitUntil(8))
        #expect(state.currentLimit == 4)
        #expect(state.acquire(now: 8, estimatedTokens: 1) == .granted)
        // A request sent after the pause is refused: a new pause.
        state.release(now: 9, estimatedTokens: 1, outcome: .rateLimited(retryAfter: 7), grantedAt: 8)
        #expect(state.acquire(now: 9, estimatedTokens: 1) == .waitUntil(16))
    }

    @Test func exhaustedHeadersPauseBeforeThe429() {
        var state = RateLimiterState(maxConcurrency: 8, requestsPerMinute: nil, tokensPerMinute: nil, now: 0)
        _ = state.acquire(now: 0, estimatedTokens: 1)
        state.release(now: 1, estimatedTokens: 1, outcome: .success(tokens: 1, remainingRequests: 0, resetSeconds: 2.5))
        #expect(state.acquire(now: 1, estimatedTokens: 1) == .waitUntil(3.5))
    }

    @Test func requestsPerMinuteHoldInEverySixtySecondWindow() {
        var state = RateLimiterState(maxConcurrency: 1000, requestsPerMinute: 600, tokensPerMinute: nil, now: 0)
        var now = 0.0
        var sent: [Double] = []
        // A greedy caller with unlimited work for three minutes.
        while now < 180 {
            switch state.acquire(now: now, estimatedTokens: 1) {
            case .granted:
                sent.append(now)
                state.release(now: now, estimatedTokens: 1, outcome: .success(tokens: 1))
            case .waitUntil(let time): now = time
            case .waitForSlot: Issue.record("no slot wait expected")
            }
        }
        var busiest = 0
        for (index, start) in sent.enumerated() {
            busiest = max(busiest, sent[index...].prefix { $0 < start + 60 }.count)
        }
        #expect(busiest <= 600)
        #expect(busiest >= 590, "the limiter uses the budget it has (less its 1% margin)")
    }

    static let paced: [Double] = (0..<12).map { 0.101 * Double($0) }

    /// `burst`: that many of the rpm requests go at once, then each waits for the one `burst` before it to leave
    /// the window (burst × 60 / rpm seconds, plus 1%). The default paces evenly; burst = rpm uses a
    /// sliding-minute limit fully.
    @Test(arguments: [
        (600, nil as Int?, Self.paced),
        (600, 10, [0.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1.01, 1.01]),
        (600, 600, Array(repeating: 0.0, count: 12)),
        (600, 1, Self.paced),
        (120, 3, [0.0, 0, 0, 1.515, 1.515, 1.515, 3.03, 3.03, 3.03, 4.545, 4.545, 4.545]),
    ])
    func burstThenPace(_ rpm: Int, _ burst: Int?, _ expected: [Double]) {
        var state = RateLimiterState(
            maxConcurrency: 1000, requestsPerMinute: rpm, tokensPerMinute: nil, burst: burst, now: 0)
        var now = 0.0
        var sent: [Double] = []
        while sent.count < expected.count {
            switch state.acquire(now: now, estimatedTokens: 1) {
            case .granted: sent.append(now)
            case .waitUntil(let time): now = time
            case .waitForSlot: Issue.record("no slot wait expected")
            }
        }
        #expect(zip(sent, expected).allSatisfy { abs($0 - $1) < 1e-9 }, "\(sent)")
    }

    @Test func tokenEstimatesAreCorrectedByRealUsage() {
        var state = RateLimiterState(maxConcurrency: 100, requestsPerMinute: nil, tokensPerMinute: 6000, now: 0)
        #expect(state.acquire(now: 0, estimatedTokens: 50) == .granted)
        // The answer used 100 tokens, not 50: the bucket (100/s) owes 50 more.
        state.release(now: 0, estimatedTokens: 50, outcome: .success(tokens: 100))
        #expect(state.acquire(now: 0, estimatedTokens: 100) == .waitUntil(1))
    }
}

@Suite struct Backoff {
    @Test(arguments: [
        (1, nil as Double?, 0.5, 0.5),
        (3, nil, 0.5, 2.0),
        (20, nil, 0.99, 59.4),
        (1, 7.0, 0.5, 7.5),
        (2, 3.0, 0.99, 3.3),
        (1, 20.0, 0.99, 20.99),
    ])
    func usesFullJitterOrTheProvidersWord(attempt: Int, retryAfter: Double?, unit: Double, expected: Double) {
        let policy = RetryPolicy(maxRetries: 5)
        #expect(abs(policy.delay(beforeRetry: attempt, retryAfter: retryAfter, unit: unit) - expected) < 1e-9)
    }
}

@Suite struct Budget {
    /// A call that does not fit waits for calls in flight to settle, and goes out once their real cost leaves room.
    @Test func aCallThatDoesNotFitWaitsForCallsInFlightToSettle() async {
        let budget = BudgetTracker(limitUSD: 1.0)
        #expect(await budget.reserve(0.4))
        #expect(await budget.reserve(0.4))
        let third = Task { await budget.reserve(0.4) }
        await budget.settle(reserved: 0.4, actualUSD: 0.1)
        #expect(await third.value, "0.1 spent + 0.4 in flight + 0.4 fits")
        #expect(await budget.spentUSD == 0.1)
    }

    /// With nothing in flight, a call that does not fit exhausts the budget, and nothing starts after that.
    @Test func withNothingInFlightAReservationThatDoesNotFitExhaustsIt() async {
        let budget = BudgetTracker(limitUSD: 1.0)
        #expect(await budget.reserve(0.5))
        await budget.settle(reserved: 0.5, actualUSD: 0.7)
        #expect(await !budget.reserve(0.4), "0.7 + 0.4 > 1 with nothing in flight")
        #expect(await budget.exhausted)
        #expect(await !budget.reserve(0.01), "once exhausted, nothing new starts")
    }

    /// The worst case until a call of that kind was answered; then its largest output with a margin, and the
    /// input as the provider counted it.
    @Test func reservationsLearnFromAnsweredCallsOfTheirKind() async {
        let budget = BudgetTracker(limitUSD: 1.0)
        #expect(await budget.expected(kind: "a", estimate: (100, 512)) == (100, 512))
        #expect(await budget.reserve(0.1))
        await budget.settle(
            reserved: 0.1, actualUSD: 0.01, used: (kind: "a", estimatedInput: 100, inputTokens: 120, outputTokens: 40))
        #expect(await budget.expected(kind: "a", estimate: (100, 512)) == (120, 50))
        #expect(await budget.expected(kind: "a", estimate: (100, 30)) == (120, 30), "never above the worst case")
        #expect(await budget.expected(kind: "b", estimate: (100, 512)) == (100, 512), "another kind starts over")
    }

    @Test func noLimitMeansNoRefusal() async {
        let budget = BudgetTracker(limitUSD: nil)
        #expect(await budget.reserve(1e9))
    }
}
