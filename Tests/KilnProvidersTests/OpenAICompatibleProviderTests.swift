import Foundation
import KilnBasics
import KilnFakeProvider
import KilnModel
import Testing

@testable import KilnProviders

/// The OpenAI-compatible provider against the fake server over real loopback HTTP.
@Suite(.serialized) struct OpenAICompatibleProviderAgainstTheFake {
    static let schema = JSONValue.object(
        JSONObject([
            ("type", .string("object")),
            ("properties", .object(JSONObject([("reply", .object(JSONObject([("type", .string("string"))])))]))),
            ("required", .array([.string("reply")])),
        ]))

    static func provider(
        for fake: FakeProvider, mode: StructuredOutputMode? = nil, timeout: Double = 10
    ) -> OpenAICompatibleProvider {
        let config = ProviderConfig(
            name: "fake", kind: .openai, model: "fake-model", baseURL: fake.baseURL, apiKeyEnv: "FAKE_KEY",
            timeoutSeconds: timeout, inputPricePerMillion: 1, outputPricePerMillion: 2, structuredOutput: mode,
            location: SourceLocation(file: "test.yml"))
        return OpenAICompatibleProvider(config: config, apiKey: "test-key", transport: CurlTransport(maxConnections: 8))
    }

    static func request(_ text: String = "Where is my order?") -> ChatRequest {
        ChatRequest(
            messages: [.system("You are a support agent."), .user(text)],
            structured: StructuredOutputSpec(schema: schema))
    }

    @Test(arguments: [StructuredOutputMode.jsonSchema, .functionCalling, .jsonMode, .jsonInstructions])
    func everyStructuredModeYieldsSchemaValidJSON(mode: StructuredOutputMode) async throws {
        let fake = FakeProvider()
        try fake.start()
        defer { fake.stop() }
        let provider = Self.provider(for: fake, mode: mode)
        let response = try await provider.send(RequestBody(provider.body(for: Self.request())))
        let value = try JSONValue(parsing: try #require(response.choices.first).text)
        #expect(JSONSchemaValidator.violations(of: value, against: Self.schema).isEmpty)
        #expect(response.usage.inputTokens > 0 && response.usage.outputTokens > 0)
        #expect(
            response.usage.costUSD == (Double(response.usage.inputTokens) + 2 * Double(response.usage.outputTokens))
                / 1e6)
    }

    @Test func imagesTravelAsDataURLPartsAndEmbeddingsComeBackInOrder() async throws {
        let fake = FakeProvider()
        try fake.start()
        defer { fake.stop() }
        let provider = Self.provider(for: fake)
        let image = ChatImage(mediaType: "image/png", bytes: [0x89, 0x50, 0x4E, 0x47])
        let body = provider.body(
            for: ChatRequest(messages: [ChatMessage(role: "user", content: "Transcribe.", images: [image])]))
        let parts = try #require(body["messages"]?.arrayValue?.first?["content"]?.arrayValue)
        #expect(parts.first?["text"] == .string("Transcribe."))
        #expect(parts.last?["image_url"]?["url"] == .string("data:image/png;base64,iVBORw=="))
        #expect(try await provider.send(RequestBody(body)).choices.first?.text.hasPrefix("Transcribed page") == true)

        let texts = ["kiln wash on shelves", "pricing of mugs", "kiln shelves"]
        let embeddings = try await provider.embed(
            RequestBody(provider.embeddingsBody(texts: texts, model: "fake-embedding")))
        #expect(embeddings.vectors.count == 3 && embeddings.vectors.allSatisfy { $0.count == 256 })
        func cosine(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        // Texts that share words are nearer than texts that do not.
        #expect(
            cosine(embeddings.vectors[0], embeddings.vectors[2]) > cosine(embeddings.vectors[0], embeddings.vectors[1]))
        #expect(embeddings.usage.inputTokens == 9)
    }

    @Test func requestsChoicesSeedAndLogprobs() async throws {
        let fake = FakeProvider()
        try fake.start()
        defer { fake.stop() }
        let provider = Self.provider(for: fake)
        var request = ChatRequest(
            messages: [.user("Rate this answer from 1 to 5.")], params: ModelParams(seed: 3), topLogprobs: 5, choices: 3
        )
        request.params.temperature = 0.5
        let body = provider.body(for: request)
        #expect(body["n"] == .integer(3) && body["seed"] == .integer(3) && body["top_logprobs"] == .integer(5))
        let response = try await provider.send(RequestBody(body))
        #expect(response.choices.count == 3)
        #expect(Set(response.choices.map(\.text)).count == 3, "each choice differs")
        let first = try #require(response.choices.first?.logprobs?.first)
        #expect(first.alternatives.count == 5)
    }

    @Test(arguments: [
        (FaultKind.rateLimit, ProviderError.Kind.rateLimited, 1.0 as Double?),
        (.rateLimitDate, .rateLimited, 2.0),
        (.quota, .quotaExhausted, nil),
        (.unauthorized, .unauthorized, nil),
        (.badRequest, .rejected, nil),
        (.serverError, .serverError, nil),
        (.unavailable, .serverError, nil),
        (.reset, .connection, nil),
        (.malformed, .invalidResponse, nil),
        (.truncated, .connection, nil),
    ])
    func classifiesEveryFault(fault: FaultKind, kind: ProviderError.Kind, retryAfter: Double?) async throws {
        let fake = FakeProvider(config: FakeProviderConfig(faults: [FaultRule(kind: fault, percent: 100)]))
        try fake.start()
        defer { fake.stop() }
        let provider = Self.provider(for: fake)
        do {
            _ = try await provider.send(RequestBody(provider.body(for: Self.request())))
            Issue.record("expected \(kind)")
        } catch {
            #expect(error.kind == kind, "\(error)")
            // An HTTP-date has whole seconds and the clock moves on before the client reads it (on a loaded machine,
            // by more than a second): any wait up to what was asked is right, never more. Seconds are exact. The
            // date arithmetic itself is tested with a fixed clock (RateLimitHeaders).
            if let retryAfter {
                let range = fault == .rateLimitDate ? 0...(retryAfter + 0.01) : retryAfter...retryAfter
                #expect(range.contains(error.retryAfter ?? -10), "\(error.retryAfter ?? -1)")
            }
            if kind == .unauthorized { #expect(error.message.hasPrefix("FAKE_KEY was rejected by provider 'fake'")) }
            #expect(!error.message.contains("test-key"), "the key never appears in an error")
        }
        // Every fault here hits only the first attempt: the same request then succeeds.
        _ = try await provider.send(RequestBody(provider.body(for: Self.request())))
    }

    @Test func timesOutOnAHang() async throws {
        let fake = FakeProvider(
            config: FakeProviderConfig(faults: [FaultRule(kind: .hang, percent: 100)], hangSeconds: 3))
        try fake.start()
        defer { fake.stop() }
        let provider = Self.provider(for: fake, timeout: 0.5)
        let start = ContinuousClock.now
        do {
            _ = try await provider.send(RequestBody(provider.body(for: Self.request())))
            Issue.record("a hang must time out")
        } catch {
            #expect(error.kind == .timeout, "\(error)")
        }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(450) && elapsed < .seconds(2), "\(elapsed)")
    }
}

@Suite struct RateLimitHeaderParsing {
    @Test(arguments: [
        (["retry-after": "7"], 7.0 as Double?),
        (["retry-after-ms": "1500", "retry-after": "9"], 1.5),
        (["retry-after": "Thu, 01 Jan 1970 00:00:30 GMT"], 20.0),
        (["retry-after": "soon"], nil),
        ([:], nil),
    ])
    func readsRetryAfter(headers: [String: String], seconds: Double?) {
        #expect(RateLimitHeaders.retryAfter(from: headers, now: Date(timeIntervalSince1970: 10)) == seconds)
    }

    @Test(arguments: [
        ("1s", 1.0 as Double?), ("6m0s", 360), ("20ms", 0.02), ("1h2m3.5s", 3723.5), ("2", 2), ("x", nil),
    ])
    func readsResetDurations(text: String, seconds: Double?) {
        #expect(RateLimitHeaders.duration(text) == seconds)
    }

    @Test func readsRemainingBudgets() {
        let hints = RateLimitHeaders.hints(from: [
            "x-ratelimit-remaining-requests": "42", "x-ratelimit-remaining-tokens": "9000",
            "x-ratelimit-reset-requests": "1s",
        ])
        #expect(hints == RateLimitHints(remainingRequests: 42, remainingTokens: 9000, requestsResetSeconds: 1))
    }
}
