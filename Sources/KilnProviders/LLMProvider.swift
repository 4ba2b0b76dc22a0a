package import KilnBasics
package import KilnModel

/// A model endpoint. Providers turn a `ChatRequest` into their wire format and back; they never retry, never
/// sleep and never cache: the scheduler and the checkpoint store do that, once, for every provider alike.
/// Sending is split in two so the scheduler can start a request on whatever thread frees a slot and decode the
/// answer on the caller's: `start` posts and returns at once, `decodeChat` / `decodeEmbeddings` read the answer.
package protocol LLMProvider: Sendable {
    var config: ProviderConfig { get }
    /// The exact request body that `start` posts, without secrets: hashed for the call cache and kept for replay.
    func body(for request: ChatRequest) -> JSONValue
    /// The exact embeddings request body for `texts` (`model` overrides the provider's model).
    func embeddingsBody(texts: [String], model: String?) -> JSONValue
    /// Posts a body made by `body(for:)` (`.chat`) or `embeddingsBody(texts:model:)` (`.embeddings`); returns at
    /// once, and `completion` runs once on the transport's thread.
    func start(
        _ body: RequestBody, to endpoint: Endpoint,
        completion: @escaping @Sendable (Result<HTTPResponse, ProviderError>) -> Void)
    /// A chat answer, or the classified error the response stands for.
    func decodeChat(_ response: HTTPResponse) throws(ProviderError) -> ChatResponse
    /// One vector per input (`expected` of them), or the classified error the response stands for.
    func decodeEmbeddings(_ response: HTTPResponse, expected: Int) throws(ProviderError) -> EmbeddingResponse
}

/// Where a request body goes.
package enum Endpoint: Sendable {
    case chat
    case embeddings
}

extension LLMProvider {
    /// Sends a body made by `body(for:)` and waits for the answer.
    package func send(_ body: RequestBody) async throws(ProviderError) -> ChatResponse {
        try decodeChat(try await exchange(body, with: .chat))
    }

    /// Sends a body made by `embeddingsBody(texts:model:)` and waits for the vectors.
    package func embed(_ body: RequestBody) async throws(ProviderError) -> EmbeddingResponse {
        try decodeEmbeddings(
            try await exchange(body, with: .embeddings), expected: body.json["input"]?.arrayValue?.count ?? 0)
    }

    private func exchange(_ body: RequestBody, with endpoint: Endpoint) async throws(ProviderError) -> HTTPResponse {
        try await withCheckedContinuation { continuation in
            start(body, to: endpoint) { continuation.resume(returning: $0) }
        }.get()
    }

    /// USD for the given token counts at the provider's prices (0 when no price is configured).
    package func cost(inputTokens: Int, outputTokens: Int) -> Double {
        (Double(inputTokens) * (config.inputPricePerMillion ?? 0) + Double(outputTokens)
            * (config.outputPricePerMillion ?? 0)) / 1_000_000
    }
}
