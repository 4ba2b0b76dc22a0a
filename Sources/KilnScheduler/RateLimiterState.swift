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
        case success(tokens: Int, remainingRequests: Int? = nil, remainingTokens: Int? = nil, resetSeconds: Double? = nil)
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
    private var requestBucket: TokenBucket?
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
        requestBucket?.take(1, now: now)
        tokenBucket?.take(Double(estimatedTokens), now: now)
        inFlight += 1
        return .granted
    }

    /// Ends a granted request. `estimatedTokens` is what `acquire` took; the bucket is corrected to the real usage.
    package mutating func release(now: Double, estimatedTokens: Int, outcome: Outcome) {
        inFlight = max(0, inFlight - 1)
        switch outcome {
        case .success(let tokens, let remainingRequests, let remainingTokens, let resetSeconds):
            tokenBucket?.take(Double(tokens - estimatedTokens), now: now)
            // Additive increase: about one more slot per `limit` clean answers.
            limit = min(Double(maxConcurrency), limit + 1 / max(limit, 1))
            if remainingRequests == 0 || remainingTokens == 0 {
                pausedUntil = max(pausedUntil, now + (resetSeconds ?? 1))
            }
        case .rateLimited(let retryAfter):
            // One multiplicative decrease per episode: the 429s of requests already in flight don't compound it.
            if now - lastDecrease > 1 {
                limit = max(Double(floor), limit / 2)
                lastDecrease = now
            }
            if let retryAfter { pausedUntil = max(pausedUntil, now + retryAfter) }
        case .otherFailure:
            break
        }
    }
}

/// A token bucket: `capacity` tokens at most, refilled continuously at `perSecond`. Taking more than is there
/// leaves a debt that delays later requests (used to correct token estimates after the fact).
package struct TokenBucket: Sendable {
    package let capacity: Double
    package let perSecond: Double
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
