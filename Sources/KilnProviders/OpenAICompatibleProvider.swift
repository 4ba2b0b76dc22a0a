import Foundation
package import KilnBasics
package import KilnModel

/// OpenAI's chat completions API, as spoken by OpenAI, OpenRouter, Together, Fireworks, Groq, Ollama, vLLM and
/// llama.cpp's server.
package struct OpenAICompatibleProvider: LLMProvider {
    package let config: ProviderConfig
    private let endpoint: URL
    private let embeddingsEndpoint: URL
    let apiKey: String?
    let transport: any HTTPTransport

    package static let defaultBaseURL = "https://api.openai.com/v1"

    /// `apiKey` is read from the environment by the caller and lives only in this value's memory.
    package init(config: ProviderConfig, apiKey: String?, transport: any HTTPTransport) {
        self.config = config
        self.apiKey = apiKey
        self.transport = transport
        let base = Self.base(of: config, default: Self.defaultBaseURL)
        endpoint = URL(string: base + "/chat/completions") ?? URL(fileURLWithPath: "/invalid")
        embeddingsEndpoint = URL(string: base + "/embeddings") ?? URL(fileURLWithPath: "/invalid")
    }

    package func body(for request: ChatRequest) -> JSONValue {
        var messages = request.messages
        let mode = config.structuredOutput ?? .jsonSchema
        var body = JSONObject()
        body["model"] = .string(config.model)
        if let structured = request.structured, mode == .jsonMode || mode == .jsonInstructions {
            // The schema travels in the prompt when the API cannot enforce it.
            let instruction =
                "Return only a JSON object that conforms to this JSON Schema, with no other text:\n"
                + structured.schema.serialized()
            if let index = messages.firstIndex(where: { $0.role == "system" }) {
                messages[index].content += "\n\n" + instruction
            } else {
                messages.insert(.system(instruction), at: 0)
            }
        }
        body["messages"] = .array(messages.map(Self.message))
        let params = Self.merge(config.params, request.params)
        if let temperature = params.temperature { body["temperature"] = .double(temperature) }
        if let topP = params.topP { body["top_p"] = .double(topP) }
        if let maxTokens = params.maxTokens { body["max_tokens"] = .integer(maxTokens) }
        if let seed = params.seed { body["seed"] = .integer(seed) }
        if request.choices > 1 { body["n"] = .integer(request.choices) }
        if let top = request.topLogprobs {
            body["logprobs"] = .bool(true)
            body["top_logprobs"] = .integer(top)
        }
        if !request.tools.isEmpty { body["tools"] = .array(request.tools) }
        if let structured = request.structured {
            switch mode {
            case .jsonSchema:
                body["response_format"] = .object(
                    JSONObject([
                        ("type", .string("json_schema")),
                        (
                            "json_schema",
                            .object(JSONObject([("name", .string(structured.name)), ("schema", structured.schema)]))
                        ),
                    ]))
            case .functionCalling:
                let function = JSONObject([("name", .string(structured.name)), ("parameters", structured.schema)])
                body["tools"] = .array(
                    request.tools + [
                        .object(JSONObject([("type", .string("function")), ("function", .object(function))]))
                    ])
                // With tools of its own the model chooses; the answer is then the task_response call.
                if request.tools.isEmpty {
                    body["tool_choice"] = .object(
                        JSONObject([
                            ("type", .string("function")),
                            ("function", .object(JSONObject([("name", .string(structured.name))]))),
                        ]))
                }
            case .jsonMode:
                body["response_format"] = .object(JSONObject([("type", .string("json_object"))]))
            case .jsonInstructions:
                break
            }
        }
        return .object(body)
    }

    package func embeddingsBody(texts: [String], model: String?) -> JSONValue {
        .object(
            JSONObject([
                ("model", .string(model ?? config.model)), ("input", .array(texts.map(JSONValue.string))),
                ("encoding_format", .string("float")),
            ]))
    }

    package func start(
        _ body: RequestBody, to endpoint: Endpoint,
        completion: @escaping @Sendable (Result<HTTPResponse, ProviderError>) -> Void
    ) {
        var headers = ["Content-Type": "application/json", "Accept": "application/json"]
        if let apiKey, !apiKey.isEmpty { headers["Authorization"] = "Bearer \(apiKey)" }
        transport.start(
            url: endpoint == .chat ? self.endpoint : embeddingsEndpoint, headers: headers, body: Data(body.text.utf8),
            timeout: config.timeoutSeconds, completion: completion)
    }

    /// A message in the chat completions shape: plain text, or text and image parts for vision models.
    static func message(_ message: ChatMessage) -> JSONValue {
        if !message.toolCalls.isEmpty {
            return .object(
                JSONObject([
                    ("role", .string(message.role)),
                    ("content", message.content.isEmpty ? .null : .string(message.content)),
                    ("tool_calls", .array(message.toolCalls.map(\.json))),
                ]))
        }
        if let id = message.toolCallID {
            return .object(
                JSONObject([
                    ("role", .string("tool")), ("tool_call_id", .string(id)), ("content", .string(message.content)),
                ]))
        }
        guard !message.images.isEmpty else {
            return .object(JSONObject([("role", .string(message.role)), ("content", .string(message.content))]))
        }
        var parts: [JSONValue] = [.object(JSONObject([("type", .string("text")), ("text", .string(message.content))]))]
        for image in message.images {
            parts.append(
                .object(
                    JSONObject([
                        ("type", .string("image_url")),
                        (
                            "image_url",
                            .object(JSONObject([("url", .string("data:\(image.mediaType);base64,\(image.base64)"))]))
                        ),
                    ])))
        }
        return .object(JSONObject([("role", .string(message.role)), ("content", .array(parts))]))
    }

    /// Later values win: a stage's parameters override the provider's defaults.
    static func merge(_ base: ModelParams, _ override: ModelParams) -> ModelParams {
        ModelParams(
            temperature: override.temperature ?? base.temperature, maxTokens: override.maxTokens ?? base.maxTokens,
            topP: override.topP ?? base.topP, seed: override.seed ?? base.seed)
    }
}
