/// When to try a failed call again: full-jitter exponential backoff, the provider's Retry-After when it gave one,
/// and a cap on the total time one item may spend waiting.
package struct RetryPolicy: Sendable {
    package var maxRetries: Int
    package var baseDelay: Double
    package var maxDelay: Double
    /// An item that has waited this long in total gives up with its last error.
    package var maxTotalWait: Double

    package init(maxRetries: Int, baseDelay: Double = 0.5, maxDelay: Double = 60, maxTotalWait: Double = 900) {
        self.maxRetries = maxRetries
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxTotalWait = maxTotalWait
    }

    /// The wait before retry number `attempt` (1 for the first retry); `unit` is a random number in [0, 1).
    package func delay(beforeRetry attempt: Int, retryAfter: Double?, unit: Double) -> Double {
        let ceiling = min(maxDelay, baseDelay * Double(1 << min(attempt, 30)))
        let jittered = ceiling * unit
        // The provider's word wins, plus a little jitter (at most a tenth of the wait, and a second) so paused
        // callers don't return in one burst: a 1 s Retry-After costs at most 1.1 s.
        if let retryAfter { return min(maxTotalWait, retryAfter + min(jittered, 1, retryAfter / 10)) }
        return jittered
    }
}
