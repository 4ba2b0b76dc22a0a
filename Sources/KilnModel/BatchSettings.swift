/// How a provider's batch API is used (`batch: true` on a provider, with optional `batch_size`,
/// `batch_poll_max_s` and `batch_discount`). None of it changes an answer, so none of it is in a cache key.
package struct BatchSettings: Sendable, Hashable {
    /// Most requests in one submitted batch; a stage with more submits several.
    package var maxRequests: Int
    /// The longest pause between two looks at a batch's state (polling starts at a few seconds and backs off).
    package var maxPollSeconds: Double
    /// The share of the live price a batched call costs (both OpenAI and Anthropic charge half).
    package var priceFactor: Double

    package static let defaultMaxRequests = 10_000
    package static let defaultMaxPollSeconds = 60.0
    package static let defaultPriceFactor = 0.5

    package init(
        maxRequests: Int = defaultMaxRequests, maxPollSeconds: Double = defaultMaxPollSeconds,
        priceFactor: Double = defaultPriceFactor
    ) {
        self.maxRequests = maxRequests
        self.maxPollSeconds = maxPollSeconds
        self.priceFactor = priceFactor
    }
}
