/// The pure decision logic of one provider's limiter: concurrency that adapts to 429s (multiplicative decrease,
/// additive increase), request and token buckets, pauses from Retry-After and rate-limit headers. Times are
/// seconds on the limiter's clock; the actor around it does the waiting.
package struct RateLimiterState: Sendable {
    /// What a request may do now.
    package enum Decision: Sendable, Equatable {
        case granted
        /// All slots of the current limit are taken: wait for a release.
        case waitForSlot
        /// A bucket or a pause blocks until this time.
        case waitUntil(Double)
    }

    /// How a granted request ended.
    package enum Outcome: Sendable, Equatable {
        /// Answered; `tokens` is the usage the provider reported, `remainingRequests`/`remainingTokens` its headers.
        case success(
            tokens: Int, remainingRequests: Int? = nil, remainingTokens: Int? = nil, resetSeconds: Double? = nil)
        /// 429: shrink, and pause everyone for `retryAfter` when the provider said.
        case rateLimited(retryAfter: Double?)
        /// Any other failure: no effect on the rate (5xx do not shrink concurrency).
        case otherFailure
    }

    package let maxConcurrency: Int
    package let floor: Int
    package private(set) var limit: Double
    package private(set) var inFlight = 0
    package private(set) var pausedUntil: Double = 0
    /// When the current pause began.
    private var pauseStarted: Double = -.infinity
    /// Whether each of the last `recentAnswers` answers was a 429.
    private var recentRefusals: [Bool] = []
    private var lastDecrease: Double = -.infinity
    /// Rate limits are counted over a second or more: a rate cut gets that long to show before the next one.
    private var lastRateDecrease: Double = -.infinity
    /// Smoothed duration of successful calls: a 429 episode lasts about one of them.
    private var smoothedLatency: Double = 1
    private var requestWindow: SlidingWindowLimit?
    /// Requests per second learnt from 429s (AIMD on the rate itself): nil until the provider first refuses.
    package private(set) var learntRate: Double?
    private var learntBucket: TokenBucket?
    /// Grant times within the last second, to measure the rate the provider was really offered.
    private var recentGrants: [Double] = []
    private var recentGrantsStart = 0

    /// The lowest rate a 429 episode can push the learnt rate to (one request every five seconds).
    package static let minimumRate = 0.2
    private var tokenBucket: TokenBucket?
    private var reservedTokens: [Int] = []

    /// The burst `rpm` allows when the pipeline does not say (`burst:`): one request, evenly paced. Measured: a
    /// second's worth at once was refused now and then (1 of 90) by a provider counting a sliding second, because
    /// requests granted together arrive spread out by a few milliseconds; paced requests fit every window shape.
    /// A provider that counts a sliding minute allows `burst: <rpm>`: the whole minute at once.
    package static let defaultBurst = 1

    package init(
        maxConcurrency: Int, requestsPerMinute: Int?, tokensPerMinute: Int?, burst: Int? = nil, now: Double
    ) {
        self.maxConcurrency = max(1, maxConcurrency)
        floor = max(1, self.maxConcurrency / 16)
        limit = Double(self.maxConcurrency)
        requestWindow = requestsPerMinute.map {
            SlidingWindowLimit(requestsPerMinute: $0, burst: burst ?? Self.defaultBurst)
        }
        tokenBucket = tokensPerMinute.map {
            TokenBucket(capacity: max(1, Double($0) / 60), perSecond: Double($0) / 60, now: now)
        }
    }

    /// The concurrency currently allowed.
    package var currentLimit: Int { max(floor, Int(limit)) }

    package mutating func acquire(now: Double, estimatedTokens: Int) -> Decision {
        if now < pausedUntil { return .waitUntil(pausedUntil) }
        guard inFlight < currentLimit else { return .waitForSlot }
        if let ready = requestWindow?.readyTime(now: now), ready > now { return .waitUntil(ready) }
        if let ready = tokenBucket?.readyTime(for: Double(estimatedTokens), now: now), ready > now {
            return .waitUntil(ready)
        }
        if let ready = learntBucket?.readyTime(for: 1, now: now), ready > now { return .waitUntil(ready) }
        learntBucket?.take(1, now: now)
        recentGrants.append(now)
        _ = grants(since: now - 1)
        requestWindow?.take(now: now)
        tokenBucket?.take(Double(estimatedTokens), now: now)
        inFlight += 1
        return .granted
    }

    /// Ends a granted request. `estimatedTokens` is what `acquire` took; the bucket is corrected to the real usage.
    /// `grantedAt` is when the request was granted, when known (its latency, and whether it was sent before a cut
    /// or a pause began).
    package mutating func release(now: Double, estimatedTokens: Int, outcome: Outcome, grantedAt: Double? = nil) {
        inFlight = max(0, inFlight - 1)
        let latency = grantedAt.map { now - $0 }
        if case .rateLimited = outcome {
            remember(refused: true)
        } else if case .success = outcome {
            remember(refused: false)
        }
        switch outcome {
        case .success(let tokens, let remainingRequests, let remainingTokens, let resetSeconds):
            if let latency { smoothedLatency = 0.8 * smoothedLatency + 0.2 * latency }
            tokenBucket?.take(Double(tokens - estimatedTokens), now: now)
            // Additive increase: about one more slot per `limit` clean answers, and the learnt rate up by about
            // 5% (at least one request per second) every second.
            limit = min(Double(maxConcurrency), limit + 1 / max(limit, 1))
            if let rate = learntRate {
                // +5% per second (at least one request per second per second): each answer adds its share.
                let raised = rate + max(1, rate * 0.05) / max(rate, 1)
                learntRate = raised
                learntBucket?.perSecond = raised
            }
            if remainingRequests == 0 || remainingTokens == 0 {
                pausedUntil = max(pausedUntil, now + (resetSeconds ?? 1))
            }
        case .rateLimited(let retryAfter):
            // A 429 that says how long to wait, among answers that mostly succeed, is the provider's sporadic
            // refusal: that request waits as told (its retry), the others go on. Only an episode — refusals dense
            // among the recent answers — pauses and shrinks the provider.
            if retryAfter != nil, !inEpisode { break }
            // One multiplicative decrease per episode: a 429 of a request sent before the last cut (in flight when
            // it came) does not compound it; without the grant time, one per call's length.
            let sentAfterCut = grantedAt.map { $0 >= lastDecrease } ?? true
            if sentAfterCut, now - lastDecrease >= min(1, max(0.05, smoothedLatency)) {
                limit = max(Double(floor), limit / 2)
                lastDecrease = now
            }
            // A 429 that says how long to wait is answered by waiting that long (the pause below); the rate is
            // only inferred from refusals that come without guidance.
            if retryAfter == nil, now - lastRateDecrease >= 1 {
                lastRateDecrease = now
                // Halve the rate the provider was actually offered over the last second.
                let offered = Double(grants(since: now - 1))
                let rate = max(Self.minimumRate, min(learntRate ?? offered, offered) / 2)
                learntRate = rate
                learntBucket = TokenBucket(capacity: 1, perSecond: rate, now: now)
            }
            // A pause starts with a 429, and only a request sent after it started (not one in flight when it
            // began) extends it.
            if let retryAfter {
                if now >= pausedUntil {
                    pausedUntil = now + retryAfter
                    pauseStarted = now
                } else if (grantedAt ?? now) >= pauseStarted {
                    pausedUntil = max(pausedUntil, now + retryAfter)
                }
            }
        case .otherFailure:
            break
        }
    }
}

extension RateLimiterState {
    /// How many recent answers tell an episode from sporadic refusals, and the share of them refused that makes one.
    static let recentAnswers = 50
    static let episodeShare = 0.2

    /// Whether refusals are dense among the recent answers: at least three, and a fifth of them.
    var inEpisode: Bool {
        let refused = recentRefusals.filter { $0 }.count
        return refused >= 3 && Double(refused) >= Self.episodeShare * Double(recentRefusals.count)
    }

    private mutating func remember(refused: Bool) {
        if recentRefusals.count == Self.recentAnswers { recentRefusals.removeFirst() }
        recentRefusals.append(refused)
    }

    /// Grants within (`start`, now]; older ones are forgotten.
    private mutating func grants(since start: Double) -> Int {
        while recentGrantsStart < recentGrants.count, recentGrants[recentGrantsStart] <= start {
            recentGrantsStart += 1
        }
        if recentGrantsStart > 4096 {
            recentGrants.removeFirst(recentGrantsStart)
            recentGrantsStart = 0
        }
        return recentGrants.count - recentGrantsStart
    }
}

/// A token bucket: `capacity` tokens at most, refilled continuously at `perSecond`. Taking more than is there
/// leaves a debt that delays later requests (used to correct token estimates after the fact).
package struct TokenBucket: Sendable {
    package let capacity: Double
    package var perSecond: Double
    private var tokens: Double
    private var updated: Double

    package init(capacity: Double, perSecond: Double, now: Double) {
        self.capacity = capacity
        self.perSecond = perSecond
        tokens = capacity
        updated = now
    }

    private mutating func refill(now: Double) {
        tokens = min(capacity, tokens + (now - updated) * perSecond)
        updated = max(updated, now)
    }

    /// When `amount` tokens (capped at the capacity, so a large request still goes through) will be available.
    package mutating func readyTime(for amount: Double, now: Double) -> Double {
        refill(now: now)
        let needed = min(amount, capacity)
        return tokens >= needed ? now : now + (needed - tokens) / perSecond
    }

    package mutating func take(_ amount: Double, now: Double) {
        refill(now: now)
        tokens -= amount
    }
}
