package import KilnBasics
package import KilnModel

/// What every provider answer carries for the scheduler and the store: usage, rate-limit hints, the raw body.
package protocol ProviderAnswer: Sendable {
    var usage: Usage { get }
    var rateLimit: RateLimitHints { get }
    var raw: JSONValue { get }
}

extension ChatResponse: ProviderAnswer {}

/// An embeddings answer: one vector per input, in input order.
package struct EmbeddingResponse: ProviderAnswer, Hashable {
    package var vectors: [[Float]]
    package var usage: Usage
    package var rateLimit: RateLimitHints
    package var raw: JSONValue

    package init(vectors: [[Float]], usage: Usage, rateLimit: RateLimitHints = RateLimitHints(), raw: JSONValue) {
        self.vectors = vectors
        self.usage = usage
        self.rateLimit = rateLimit
        self.raw = raw
    }
}
