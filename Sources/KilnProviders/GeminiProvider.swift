import Foundation
package import KilnBasics
package import KilnModel

/// Google's Gemini API (`generateContent`): the system prompt as `systemInstruction`, structured output through
/// `responseMimeType` + `responseJsonSchema`, thought parts read back as reasoning, token logprobs for g_eval,
/// `usageMetadata` for usage, and `batchEmbedContents` for embeddings.
package struct GeminiProvider: LLMProvider {
    package let config: ProviderConfig
    private let base: String
    private let apiKey: String?
    private let transport: any HTTPTransport

    package static let defaultBaseURL = "https://generativelanguage.googleapis.com/v1beta"

    /// `apiKey` is read from the environment by the caller and lives only in this value's memory.
    package init(config: ProviderConfig, apiKey: String?, transport: any HTTPTransport) {
        self.config = config
        self.apiKey = apiKey
        self.transport = transport
        base = Self.base(of: config, default: Self.defaultBaseURL)
    }

    package func body(for request: ChatRequest) -> JSONValue {
        var body = JSONObject()
        let system = request.messages.filter { $0.role == "system" }.map(\.content).joined(separator: "\n\n")
        if !system.isEmpty {
            body["systemInstruction"] = .object(JSONObject([("parts", .array([Self.textPart(system)]))]))
        }
        body["contents"] = .array(Self.contents(request.messages.filter { $0.role != "system" }))
        // An agent's tools as function declarations (their JSON Schema as is).
        let declarations: [JSONValue] = request.tools.compactMap { tool in
            guard let function = tool["function"], let name = function["name"] else { return nil }
            return .object(
                JSONObject([
                    ("name", name), ("description", function["description"] ?? .string("")),
                    (
                        "parametersJsonSchema",
                        function["parameters"] ?? .object(JSONObject([("type", .string("object"))]))
                    ),
                ]))
        }
        if !declarations.isEmpty {
            body["tools"] = .array([.object(JSONObject([("functionDeclarations", .array(declarations))]))])
        }
        let params = OpenAICompatibleProvider.merge(config.params, request.params)
        var generation = JSONObject()
        if let temperature = params.temperature { generation["temperature"] = .double(temperature) }
        if let topP = params.topP { generation["topP"] = .double(topP) }
        if let maxTokens = params.maxTokens { generation["maxOutputTokens"] = .integer(maxTokens) }
        if let seed = params.seed { generation["seed"] = .integer(seed) }
        if request.choices > 1 { generation["candidateCount"] = .integer(request.choices) }
        if let top = request.topLogprobs {
            generation["responseLogprobs"] = .bool(true)
            generation["logprobs"] = .integer(top)
        }
        if let structured = request.structured {
            generation["responseMimeType"] = .string("application/json")
            generation["responseJsonSchema"] = structured.schema
        }
        if !generation.isEmpty { body["generationConfig"] = .object(generation) }
        // The model goes in the URL (the API refuses it in the body); the unit's key names it.
        return .object(body)
    }

    private static func textPart(_ text: String) -> JSONValue { .object(JSONObject([("text", .string(text))])) }

    /// The conversation in Gemini's shape: a model turn's tool calls as `functionCall` parts, and the tool results
    /// that follow as one user turn of `functionResponse` parts (named by the call they answer).
    static func contents(_ messages: [ChatMessage]) -> [JSONValue] {
        var result: [JSONValue] = []
        var responses: [JSONValue] = []
        var names: [String: String] = [:]
        func flush() {
            guard !responses.isEmpty else { return }
            result.append(.object(JSONObject([("role", .string("user")), ("parts", .array(responses))])))
            responses.removeAll()
        }
        for message in messages {
            if message.role == "tool" {
                let id = message.toolCallID ?? ""
                responses.append(
                    .object(
                        JSONObject([
                            (
                                "functionResponse",
                                .object(
                                    JSONObject([
                                        ("id", .string(id)), ("name", .string(names[id] ?? "")),
                                        ("response", .object(JSONObject([("result", .string(message.content))]))),
                                    ]))
                            )
                        ])))
                continue
            }
            flush()
            guard message.role == "assistant", !message.toolCalls.isEmpty else {
                result.append(content(message))
                continue
            }
            var parts: [JSONValue] = message.content.isEmpty ? [] : [textPart(message.content)]
            for call in message.toolCalls {
                names[call.id] = call.name
                let args = (try? JSONValue(parsing: call.arguments)).flatMap { $0.objectValue == nil ? nil : $0 }
                parts.append(
                    .object(
                        JSONObject([
                            (
                                "functionCall",
                                .object(
                                    JSONObject([
                                        ("id", .string(call.id)), ("name", .string(call.name)),
                                        ("args", args ?? .object(JSONObject())),
                                    ]))
                            )
                        ])))
            }
            result.append(.object(JSONObject([("role", .string("model")), ("parts", .array(parts))])))
        }
        flush()
        return result
    }

    /// A turn in Gemini's shape: role user or model, images as inline data before the text.
    static func content(_ message: ChatMessage) -> JSONValue {
        var parts: [JSONValue] = message.images.map { image in
            .object(
                JSONObject([
                    (
                        "inlineData",
                        .object(JSONObject([("mimeType", .string(image.mediaType)), ("data", .string(image.base64))]))
                    )
                ]))
        }
        parts.append(textPart(message.content))
        return .object(
            JSONObject([("role", .string(message.role == "assistant" ? "model" : "user")), ("parts", .array(parts))]))
    }

    package func embeddingsBody(texts: [String], model: String?) -> JSONValue {
        let name = "models/" + (model ?? config.model)
        return .object(
            JSONObject([
                (
                    "requests",
                    .array(
                        texts.map { text in
                            .object(
                                JSONObject([
                                    ("model", .string(name)),
                                    ("content", .object(JSONObject([("parts", .array([Self.textPart(text)]))]))),
                                ]))
                        })
                )
            ]))
    }

    package func start(
        _ body: RequestBody, to endpoint: Endpoint,
        completion: @escaping @Sendable (Result<HTTPResponse, ProviderError>) -> Void
    ) {
        // Embeddings name their model in each request ("models/M"); chat uses the provider's.
        let named = body.json["requests"]?.arrayValue?.first?["model"]?.stringValue
        let model = named.map { String($0.dropFirst("models/".count)) } ?? config.model
        let method = endpoint == .chat ? "generateContent" : "batchEmbedContents"
        guard let url = URL(string: "\(base)/models/\(model):\(method)") else {
            completion(.failure(ProviderError(.rejected, "'\(base)' and model '\(model)' make no valid URL")))
            return
        }
        var headers = ["Content-Type": "application/json"]
        if let apiKey, !apiKey.isEmpty { headers["x-goog-api-key"] = apiKey }
        transport.start(
            url: url, headers: headers, body: Data(body.text.utf8), timeout: config.timeoutSeconds,
            completion: completion)
    }

    package func decodeChat(_ response: HTTPResponse) throws(ProviderError) -> ChatResponse {
        let json = try? JSONValue(parsing: response.body)
        guard (200..<300).contains(response.status) else { throw error(response, body: json) }
        guard let json, let candidates = json["candidates"]?.arrayValue, !candidates.isEmpty else {
            let blocked = json?["promptFeedback"]?["blockReason"]?.stringValue
            throw ProviderError(
                blocked == nil ? .invalidResponse : .rejected,
                blocked.map { "Gemini blocked the prompt (\($0))" }
                    ?? "the answer has no candidates (\(response.body.isEmpty ? "empty body" : "unreadable JSON"))",
                status: response.status)
        }
        let choices = candidates.enumerated().map { index, candidate -> ChatChoice in
            var text = ""
            var reasoning: String?
            var calls: [ToolCall] = []
            for part in candidate["content"]?["parts"]?.arrayValue ?? [] {
                if let call = part["functionCall"] {
                    calls.append(
                        ToolCall(
                            id: call["id"]?.stringValue ?? "call_\(index)_\(calls.count)",
                            name: call["name"]?.stringValue ?? "",
                            arguments: (call["args"] ?? .object(JSONObject())).serialized()))
                } else if part["thought"] == .bool(true) {
                    reasoning = (reasoning ?? "") + (part["text"]?.stringValue ?? "")
                } else {
                    text += part["text"]?.stringValue ?? ""
                }
            }
            let finish = candidate["finishReason"]?.stringValue
            let logprobs = candidate["logprobsResult"].map(Self.logprobs)
            return ChatChoice(
                text: text, reasoning: reasoning, logprobs: logprobs,
                finishReason: calls.isEmpty
                    ? (finish == "MAX_TOKENS" ? "length" : finish.map { $0 == "STOP" ? "stop" : $0.lowercased() })
                    : "tool_calls",
                toolCalls: calls)
        }
        let usage = json["usageMetadata"]
        func count(_ field: String) -> Int { Int(usage?[field]?.numberValue ?? 0) }
        let inputTokens = count("promptTokenCount")
        // Thinking is billed as output.
        let outputTokens = count("candidatesTokenCount") + count("thoughtsTokenCount")
        return chatResponse(
            choices: choices, inputTokens: inputTokens, outputTokens: outputTokens, headers: response.headers, raw: json
        )
    }

    /// Chosen tokens with their alternatives, from `logprobsResult`.
    private static func logprobs(_ result: JSONValue) -> [TokenLogprob] {
        let chosen = result["chosenCandidates"]?.arrayValue ?? []
        let top = result["topCandidates"]?.arrayValue ?? []
        return chosen.enumerated().map { index, token in
            TokenLogprob(
                token: token["token"]?.stringValue ?? "", logprob: token["logProbability"]?.numberValue ?? 0,
                alternatives: (index < top.count ? top[index]["candidates"]?.arrayValue ?? [] : []).map {
                    TokenAlternative(
                        token: $0["token"]?.stringValue ?? "", logprob: $0["logProbability"]?.numberValue ?? 0)
                })
        }
    }

    package func decodeEmbeddings(_ response: HTTPResponse, expected: Int) throws(ProviderError) -> EmbeddingResponse {
        let json = try? JSONValue(parsing: response.body)
        guard (200..<300).contains(response.status) else { throw error(response, body: json) }
        let vectors = (json?["embeddings"]?.arrayValue ?? []).map {
            ($0["values"]?.arrayValue ?? []).map { Float($0.numberValue ?? 0) }
        }
        guard let json, vectors.count == expected, let width = vectors.first?.count, width > 0,
            vectors.allSatisfy({ $0.count == width })
        else {
            throw ProviderError(
                .invalidResponse,
                "the embeddings answer has \(vectors.count) vectors for \(expected) inputs, or vectors of "
                    + "unequal length",
                status: response.status)
        }
        // Gemini's embeddings report no usage: estimated at four characters per token.
        return EmbeddingResponse(
            vectors: vectors, usage: Usage(), rateLimit: RateLimitHeaders.hints(from: response.headers), raw: json)
    }

    /// Classifies an error response (`{"error": {"code": …, "message": …, "status": …}}`). A 429 carries its wait
    /// in `RetryInfo.retryDelay`; an exhausted daily quota stops the run, since waiting cannot help within it.
    private func error(_ response: HTTPResponse, body: JSONValue?) -> ProviderError {
        let message =
            body?["error"]?["message"]?.stringValue
            ?? String(String(decoding: response.body, as: UTF8.self).prefix(300))
        let status = body?["error"]?["status"]?.stringValue ?? ""
        let details = body?["error"]?["details"]?.arrayValue ?? []
        let retryDelay = details.compactMap { $0["retryDelay"]?.stringValue }.first.flatMap {
            Double($0.filter { $0.isNumber || $0 == "." })
        }
        let retryAfter = RateLimitHeaders.retryAfter(from: response.headers) ?? retryDelay
        let quotaIDs = details.flatMap { $0["violations"]?.arrayValue ?? [] }.compactMap { $0["quotaId"]?.stringValue }
        if response.status == 429, quotaIDs.contains(where: { $0.contains("PerDay") }) {
            return ProviderError(
                .quotaExhausted, "the daily quota of provider '\(config.name)' is used up: \(message)", status: 429)
        }
        // Gemini reports a bad key as a 400 INVALID_ARGUMENT naming the key.
        return .classified(
            status: response.status, message: message, retryAfter: retryAfter,
            aboutTheKey: status == "UNAUTHENTICATED" || status == "PERMISSION_DENIED"
                || message.lowercased().contains("api key"),
            provider: config)
    }
}
