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
        body["messages"] = .array(Self.messages(request.messages.filter { $0.role != "system" }))
        if let temperature = params.temperature { body["temperature"] = .double(temperature) }
        if let topP = params.topP { body["top_p"] = .double(topP) }
        // An agent's tools in Anthropic's shape; with structured output the answer is one more tool, and the model
        // must call a tool each turn (`any`): one of the agent's, or the answer.
        var tools: [JSONValue] = request.tools.compactMap { tool in
            guard let function = tool["function"], let name = function["name"] else { return nil }
            return .object(
                JSONObject([
                    ("name", name), ("description", function["description"] ?? .string("")),
                    ("input_schema", function["parameters"] ?? .object(JSONObject([("type", .string("object"))]))),
                ]))
        }
        if let structured = request.structured {
            tools.append(
                .object(
                    JSONObject([
                        ("name", .string(structured.name)), ("description", .string("Return the answer.")),
                        ("input_schema", structured.schema),
                    ])))
            body["tool_choice"] =
                request.tools.isEmpty
                ? .object(JSONObject([("type", .string("tool")), ("name", .string(structured.name))]))
                : .object(JSONObject([("type", .string("any"))]))
        }
        if !tools.isEmpty { body["tools"] = .array(tools) }
        return .object(body)
    }

    /// The conversation in the Messages API shape: an assistant's tool calls as `tool_use` blocks, and the tool
    /// results that follow them as one user message of `tool_result` blocks.
    static func messages(_ messages: [ChatMessage]) -> [JSONValue] {
        var result: [JSONValue] = []
        var results: [JSONValue] = []
        func flush() {
            guard !results.isEmpty else { return }
            result.append(.object(JSONObject([("role", .string("user")), ("content", .array(results))])))
            results.removeAll()
        }
        for message in messages {
            if message.role == "tool" {
                results.append(
                    .object(
                        JSONObject([
                            ("type", .string("tool_result")), ("tool_use_id", .string(message.toolCallID ?? "")),
                            ("content", .string(message.content)),
                        ])))
                continue
            }
            flush()
            guard message.role == "assistant", !message.toolCalls.isEmpty else {
                result.append(Self.message(message))
                continue
            }
            var blocks: [JSONValue] = []
            if !message.content.isEmpty {
                blocks.append(.object(JSONObject([("type", .string("text")), ("text", .string(message.content))])))
            }
            for call in message.toolCalls {
                let input = (try? JSONValue(parsing: call.arguments)).flatMap { $0.objectValue == nil ? nil : $0 }
                blocks.append(
                    .object(
                        JSONObject([
                            ("type", .string("tool_use")), ("id", .string(call.id)), ("name", .string(call.name)),
                            ("input", input ?? .object(JSONObject())),
                        ])))
            }
            result.append(.object(JSONObject([("role", .string("assistant")), ("content", .array(blocks))])))
        }
        flush()
        return result
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
        var calls: [ToolCall] = []
        for block in blocks {
            switch block["type"]?.stringValue {
            case "text": text += block["text"]?.stringValue ?? ""
            case "tool_use":
                // An agent's tool calls are kept as calls; the structured answer is a tool's input (below).
                let input = block["input"].map { $0.serialized() } ?? "{}"
                calls.append(
                    ToolCall(
                        id: block["id"]?.stringValue ?? "", name: block["name"]?.stringValue ?? "", arguments: input))
            case "thinking": reasoning = (reasoning ?? "") + (block["thinking"]?.stringValue ?? "")
            default: break
            }
        }
        // A tool's input is the answer (structured output through a forced tool, which Claude calls without text).
        if let first = calls.first { text = first.arguments }
        // The scheduler and the validators speak OpenAI's finish reasons: a cut-off answer is "length".
        let stop = json["stop_reason"]?.stringValue
        let finish = stop == "max_tokens" ? "length" : stop == "tool_use" ? "tool_calls" : "stop"
        let inputTokens = json["usage"]?["input_tokens"]?.numberValue.map { Int($0) } ?? 0
        let outputTokens = json["usage"]?["output_tokens"]?.numberValue.map { Int($0) } ?? 0
        return chatResponse(
            choices: [ChatChoice(text: text, reasoning: reasoning, finishReason: finish, toolCalls: calls)],
            inputTokens: inputTokens,
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
