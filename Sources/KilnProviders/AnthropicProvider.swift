import Foundation
package import KilnBasics
package import KilnModel

/// Anthropic's Messages API: the system prompt apart, structured output through a forced tool call, extended
/// thinking read back as reasoning, `anthropic-ratelimit-*` headers and `retry-after` honoured by the scheduler.
package struct AnthropicProvider: LLMProvider {
    package let config: ProviderConfig
    private let endpoint: URL
    let apiKey: String?
    let transport: any HTTPTransport

    package static let defaultBaseURL = "https://api.anthropic.com/v1"
    package static let apiVersion = "2023-06-01"
    /// The Messages API requires `max_tokens`; this is used when neither the stage nor the provider sets one.
    package static let defaultMaxTokens = 4096

    /// `apiKey` is read from the environment by the caller and lives only in this value's memory.
    package init(config: ProviderConfig, apiKey: String?, transport: any HTTPTransport) {
        self.config = config
        self.apiKey = apiKey
        self.transport = transport
        endpoint =
            URL(string: Self.base(of: config, default: Self.defaultBaseURL) + "/messages")
            ?? URL(fileURLWithPath: "/invalid")
    }

    package func body(for request: ChatRequest) -> JSONValue {
        var body = JSONObject()
        body["model"] = .string(config.model)
        let params = OpenAICompatibleProvider.merge(config.params, request.params)
        body["max_tokens"] = .integer(params.maxTokens ?? Self.defaultMaxTokens)
        let system = request.messages.filter { $0.role == "system" }.map(\.content).joined(separator: "\n\n")
        if !system.isEmpty { body["system"] = .string(system) }
        body["messages"] = .array(request.messages.filter { $0.role != "system" }.map(Self.message))
        if let temperature = params.temperature { body["temperature"] = .double(temperature) }
        if let topP = params.topP { body["top_p"] = .double(topP) }
        if let structured = request.structured {
            body["tools"] = .array([
                .object(
                    JSONObject([
                        ("name", .string(structured.name)), ("description", .string("Return the answer.")),
                        ("input_schema", structured.schema),
                    ]))
            ])
            body["tool_choice"] = .object(JSONObject([("type", .string("tool")), ("name", .string(structured.name))]))
        }
        return .object(body)
    }

    /// A message in the Messages API shape: text, with images as base64 blocks before it.
    static func message(_ message: ChatMessage) -> JSONValue {
        let role = JSONValue.string(message.role == "assistant" ? "assistant" : "user")
        guard !message.images.isEmpty else {
            return .object(JSONObject([("role", role), ("content", .string(message.content))]))
        }
        var blocks: [JSONValue] = message.images.map { image in
            .object(
                JSONObject([
                    ("type", .string("image")),
                    (
                        "source",
                        .object(
                            JSONObject([
                                ("type", .string("base64")), ("media_type", .string(image.mediaType)),
                                ("data", .string(image.base64)),
                            ]))
                    ),
                ]))
        }
        blocks.append(.object(JSONObject([("type", .string("text")), ("text", .string(message.content))])))
        return .object(JSONObject([("role", role), ("content", .array(blocks))]))
    }

    package func embeddingsBody(texts: [String], model: String?) -> JSONValue {
        .object(
            JSONObject([("model", .string(model ?? config.model)), ("input", .array(texts.map(JSONValue.string)))]))
    }

    package func start(
        _ body: RequestBody, to endpoint: Endpoint,
        completion: @escaping @Sendable (Result<HTTPResponse, ProviderError>) -> Void
    ) {
        guard endpoint == .chat else {
            completion(
                .failure(
                    ProviderError(.rejected, "Anthropic has no embeddings API: use another provider for embeddings")))
            return
        }
        var headers = ["Content-Type": "application/json", "anthropic-version": Self.apiVersion]
        if let apiKey, !apiKey.isEmpty { headers["x-api-key"] = apiKey }
        transport.start(
            url: self.endpoint, headers: headers, body: Data(body.text.utf8), timeout: config.timeoutSeconds,
            completion: completion)
    }

    package func decodeChat(_ response: HTTPResponse) throws(ProviderError) -> ChatResponse {
        let json = try? JSONValue(parsing: response.body)
        guard (200..<300).contains(response.status) else { throw error(response, body: json) }
        guard let json, let blocks = json["content"]?.arrayValue else {
            throw ProviderError(
                .invalidResponse,
                "the answer is not an Anthropic message (\(response.body.isEmpty ? "empty body" : "unreadable JSON"))",
                status: response.status)
        }
        var text = ""
        var reasoning: String?
        for block in blocks {
            switch block["type"]?.stringValue {
            case "text": text += block["text"]?.stringValue ?? ""
            case "tool_use": text = block["input"].map { $0.serialized() } ?? text
            case "thinking": reasoning = (reasoning ?? "") + (block["thinking"]?.stringValue ?? "")
            default: break
            }
        }
        // The scheduler and the validators speak OpenAI's finish reasons: a cut-off answer is "length".
        let stop = json["stop_reason"]?.stringValue
        let finish = stop == "max_tokens" ? "length" : stop == "tool_use" ? "tool_calls" : "stop"
        let inputTokens = json["usage"]?["input_tokens"]?.numberValue.map { Int($0) } ?? 0
        let outputTokens = json["usage"]?["output_tokens"]?.numberValue.map { Int($0) } ?? 0
        return chatResponse(
            choices: [ChatChoice(text: text, reasoning: reasoning, finishReason: finish)], inputTokens: inputTokens,
            outputTokens: outputTokens, headers: response.headers, raw: json)
    }

    package func decodeEmbeddings(_ response: HTTPResponse, expected: Int) throws(ProviderError) -> EmbeddingResponse {
        throw ProviderError(.rejected, "Anthropic has no embeddings API: use another provider for embeddings")
    }

    /// Classifies an error response (`{"type": "error", "error": {"type": …, "message": …}}`).
    func error(_ response: HTTPResponse, body: JSONValue?) -> ProviderError {
        let message =
            body?["error"]?["message"]?.stringValue
            ?? String(String(decoding: response.body, as: UTF8.self).prefix(300))
        let type = body?["error"]?["type"]?.stringValue ?? ""
        let retryAfter = RateLimitHeaders.retryAfter(from: response.headers)
        if response.status == 400, message.lowercased().contains("credit balance") {
            return ProviderError(
                .quotaExhausted, "the account of provider '\(config.name)' is out of credit: \(message)", status: 400)
        }
        // 529 is Anthropic's "overloaded": a server-side condition, retried without slowing down.
        return .classified(
            status: response.status, message: message, retryAfter: retryAfter,
            aboutTheKey: type == "authentication_error"
                || type == "permission_error" && message.lowercased().contains("key"),
            provider: config)
    }
}
