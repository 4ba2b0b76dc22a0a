package import KilnBasics
package import KilnModel

/// A model endpoint. Providers turn a `ChatRequest` into their wire format and back; they never retry, never
/// sleep and never cache: the scheduler and the checkpoint store do that, once, for every provider alike.
package protocol LLMProvider: Sendable {
    var config: ProviderConfig { get }
    /// The exact request body that `send` posts, without secrets: hashed for the call cache and kept for replay.
    func body(for request: ChatRequest) -> JSONValue
    /// Sends a body made by `body(for:)`.
    func send(_ body: RequestBody) async throws(ProviderError) -> ChatResponse
    /// The exact embeddings request body for `texts` (`model` overrides the provider's model).
    func embeddingsBody(texts: [String], model: String?) -> JSONValue
    /// Sends a body made by `embeddingsBody(texts:model:)`.
    func embed(_ body: RequestBody) async throws(ProviderError) -> EmbeddingResponse
}

/// A request body serialized once (keys sorted): the same bytes are sent, hashed for the call cache and stored
/// for replay.
package struct RequestBody: Sendable {
    package let json: JSONValue
    package let text: String
    package let hash: String

    package init(_ json: JSONValue) {
        self.json = json
        text = json.serialized(sortedKeys: true)
        hash = SHA256.hex(text)
    }
}

extension LLMProvider {
    /// USD for the given token counts at the provider's prices (0 when no price is configured).
    package func cost(inputTokens: Int, outputTokens: Int) -> Double {
        (Double(inputTokens) * (config.inputPricePerMillion ?? 0) + Double(outputTokens)
            * (config.outputPricePerMillion ?? 0)) / 1_000_000
    }
}
