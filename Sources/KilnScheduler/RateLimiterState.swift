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
    private var lastDecrease: Double = -.infinity
    /// Rate limits are counted over a second or more: a rate cut gets that long to show before the next one.
    private var lastRateDecrease: Double = -.infinity
    /// Smoothed duration of successful calls: a 429 episode lasts about one of them.
    private var smoothedLatency: Double = 1
    private var requestBucket: TokenBucket?
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

    package init(maxConcurrency: Int, requestsPerMinute: Int?, tokensPerMinute: Int?, now: Double) {
        self.maxConcurrency = max(1, maxConcurrency)
        floor = max(1, self.maxConcurrency / 16)
        limit = Double(self.maxConcurrency)
        // One request of burst keeps any 60-second window at or under the requests-per-minute limit.
        requestBucket = requestsPerMinute.map { TokenBucket(capacity: 1, perSecond: Double($0) / 60, now: now) }
        tokenBucket = tokensPerMinute.map {
            TokenBucket(capacity: max(1, Double($0) / 60), perSecond: Double($0) / 60, now: now)
        }
    }

    /// The concurrency currently allowed.
    package var currentLimit: Int { max(floor, Int(limit)) }

    package mutating func acquire(now: Double, estimatedTokens: Int) -> Decision {
        if now < pausedUntil { return .waitUntil(pausedUntil) }
        guard inFlight < currentLimit else { return .waitForSlot }
        if let ready = requestBucket?.readyTime(for: 1, now: now), ready > now { return .waitUntil(ready) }
        if let ready = tokenBucket?.readyTime(for: Double(estimatedTokens), now: now), ready > now {
            return .waitUntil(ready)
        }
        if let ready = learntBucket?.readyTime(for: 1, now: now), ready > now { return .waitUntil(ready) }
        learntBucket?.take(1, now: now)
        recentGrants.append(now)
        _ = grants(since: now - 1)
        requestBucket?.take(1, now: now)
        tokenBucket?.take(Double(estimatedTokens), now: now)
        inFlight += 1
        return .granted
    }

    /// Ends a granted request. `estimatedTokens` is what `acquire` took; the bucket is corrected to the real usage.
    /// `latency` is how long the call took, when known.
    package mutating func release(now: Double, estimatedTokens: Int, outcome: Outcome, latency: Double? = nil) {
        inFlight = max(0, inFlight - 1)
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
            // One multiplicative decrease per episode (about one call long): the 429s of requests that were
            // already in flight when the first one came back don't compound it.
            if now - lastDecrease >= min(1, max(0.05, smoothedLatency)) {
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
            if let retryAfter { pausedUntil = max(pausedUntil, now + retryAfter) }
        case .otherFailure:
            break
        }
    }
}

extension RateLimiterState {
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
