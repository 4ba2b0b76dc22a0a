import KilnBasics

/// The APIs the fake speaks. A request in Anthropic's or Gemini's shape is read as the equivalent OpenAI chat
/// request, answered by the same fake model, and the answer and every injected fault are written back in the
/// API's own shape, so one pipeline can run unchanged against all three.
enum FakeDialect {
    case openAI
    case anthropic
    case gemini

    /// The OpenAI chat-completions body equivalent to `body`.
    func openAIChatBody(_ body: JSONValue) -> JSONValue {
        switch self {
        case .openAI: return body
        case .anthropic: return Self.chatBody(anthropic: body)
        case .gemini: return Self.chatBody(gemini: body)
        }
    }

    /// The fake model's answer to a chat request in this API's shape (`breakSchema`: one that misses its schema).
    func completion(body: JSONValue, hash: String, breakSchema: Bool) -> JSONValue {
        let completion = FakeCompletion(body: openAIChatBody(body), hash: hash, breakSchema: breakSchema).json
        if case .anthropic = self, let answer = Self.answerTool(anthropic: body) {
            return Self.anthropicResponse(completion, answerTool: answer.name)
        }
        return chatResponse(completion)
    }

    /// An OpenAI chat completion rewritten in this API's response shape.
    func chatResponse(_ completion: JSONValue) -> JSONValue {
        switch self {
        case .openAI: return completion
        case .anthropic: return Self.anthropicResponse(completion)
        case .gemini: return Self.geminiResponse(completion)
        }
    }

    /// An error body in this API's shape; `openAIType` and `code` are what OpenAI would say.
    func errorBody(status: Int, message: String, openAIType: String, code: String? = nil) -> String {
        switch self {
        case .openAI:
            return FakeProvider.error(message, type: openAIType, code: code)
        case .anthropic:
            let type =
                switch status {
                case 429: "rate_limit_error"
                case 401: "authentication_error"
                case 529, 503: "overloaded_error"
                case 500...: "api_error"
                default: "invalid_request_error"
                }
            return JSONValue.object(
                JSONObject([
                    ("type", .string("error")),
                    ("error", .object(JSONObject([("type", .string(type)), ("message", .string(message))]))),
                ])
            ).serialized()
        case .gemini:
            let state =
                switch status {
                case 429: "RESOURCE_EXHAUSTED"
                case 401: "UNAUTHENTICATED"
                case 503: "UNAVAILABLE"
                case 500...: "INTERNAL"
                default: "INVALID_ARGUMENT"
                }
            var error = JSONObject([
                ("code", .integer(status)), ("message", .string(message)), ("status", .string(state)),
            ])
            if code == "insufficient_quota" {
                error["details"] = .array([
                    .object(
                        JSONObject([
                            ("@type", .string("type.googleapis.com/google.rpc.QuotaFailure")),
                            (
                                "violations",
                                .array([
                                    .object(
                                        JSONObject([("quotaId", .string("GenerateRequestsPerDayPerProjectPerModel"))]))
                                ])
                            ),
                        ]))
                ])
            }
            return JSONValue.object(JSONObject([("error", .object(error))])).serialized()
        }
    }

    /// The status this API answers with for an OpenAI-style status: Anthropic's credit exhaustion is a 400 and
    /// its overload a 529; Gemini reports a bad key as a 400.
    func status(for openAIStatus: Int, code: String?) -> Int {
        switch (self, openAIStatus) {
        case (.anthropic, 429) where code == "insufficient_quota": 400
        case (.anthropic, 503): 529
        case (.gemini, 401): 400
        default: openAIStatus
        }
    }

    // MARK: Anthropic

    private static func chatBody(anthropic body: JSONValue) -> JSONValue {
        var messages: [JSONValue] = []
        if let system = body["system"]?.stringValue {
            messages.append(.object(JSONObject([("role", .string("system")), ("content", .string(system))])))
        }
        for message in body["messages"]?.arrayValue ?? [] {
            messages += openAIMessages(anthropic: message)
        }
        var chat = JSONObject([("model", body["model"] ?? .string("fake")), ("messages", .array(messages))])
        // An agent's request (`tool_choice: any`): its tools are offered, and the answer tool is the schema of the
        // final answer.
        if let answer = answerTool(anthropic: body) {
            chat["tools"] = .array(
                (body["tools"]?.arrayValue ?? []).filter { $0["name"] != answer.tool["name"] }.map { tool in
                    function(tool["name"], tool["description"] ?? .string(""), tool["input_schema"])
                })
            chat["response_format"] = .object(
                JSONObject([
                    ("type", .string("json_schema")),
                    (
                        "json_schema",
                        .object(
                            JSONObject([
                                ("name", .string(answer.name)), ("schema", answer.tool["input_schema"] ?? .null),
                            ]))
                    ),
                ]))
        } else if let tool = body["tools"]?.arrayValue?.first {
            chat["tools"] = .array([function(tool["name"] ?? .string("task_response"), nil, tool["input_schema"])])
            if body["tool_choice"]?["type"]?.stringValue == "tool" || body["tool_choice"]?["type"]?.stringValue == "any"
            {
                chat["tool_choice"] = .string("required")
            }
        }
        return .object(chat)
    }

    /// An OpenAI tool definition (`description` left out when nil, as the structured-output tool has none).
    private static func function(_ name: JSONValue?, _ description: JSONValue?, _ parameters: JSONValue?) -> JSONValue {
        var function = JSONObject([("name", name ?? .string(""))])
        if let description { function["description"] = description }
        function["parameters"] = parameters ?? .null
        return .object(JSONObject([("type", .string("function")), ("function", .object(function))]))
    }

    /// The answer tool of an agent's request (several tools, the model made to call one): the last tool.
    private static func answerTool(anthropic body: JSONValue) -> (name: String, tool: JSONValue)? {
        guard body["tool_choice"]?["type"]?.stringValue == "any", let tool = body["tools"]?.arrayValue?.last,
            let name = tool["name"]?.stringValue
        else { return nil }
        return (name, tool)
    }

    /// One Anthropic message as OpenAI messages: `tool_use` blocks become the assistant's tool calls, each
    /// `tool_result` block a tool message.
    private static func openAIMessages(anthropic message: JSONValue) -> [JSONValue] {
        let blocks = message["content"]?.arrayValue ?? []
        let uses = blocks.filter { $0["type"]?.stringValue == "tool_use" }
        let results = blocks.filter { $0["type"]?.stringValue == "tool_result" }
        if !results.isEmpty {
            return results.map { block in
                .object(
                    JSONObject([
                        ("role", .string("tool")), ("tool_call_id", block["tool_use_id"] ?? .string("")),
                        ("content", block["content"] ?? .string("")),
                    ]))
            }
        }
        guard !uses.isEmpty else {
            return [
                .object(
                    JSONObject([
                        ("role", message["role"] ?? .string("user")),
                        ("content", openAIContent(anthropic: message["content"])),
                    ]))
            ]
        }
        let text = blocks.filter { $0["type"]?.stringValue == "text" }.compactMap { $0["text"]?.stringValue }.joined()
        let calls: [JSONValue] = uses.map { block in
            .object(
                JSONObject([
                    ("id", block["id"] ?? .string("")), ("type", .string("function")),
                    (
                        "function",
                        .object(
                            JSONObject([
                                ("name", block["name"] ?? .string("")),
                                ("arguments", .string((block["input"] ?? .object(JSONObject())).serialized())),
                            ]))
                    ),
                ]))
        }
        return [
            .object(
                JSONObject([
                    ("role", .string("assistant")), ("content", text.isEmpty ? .null : .string(text)),
                    ("tool_calls", .array(calls)),
                ]))
        ]
    }

    /// Text stays text; image blocks become OpenAI image parts (data URLs).
    private static func openAIContent(anthropic content: JSONValue?) -> JSONValue {
        guard let blocks = content?.arrayValue else { return content ?? .string("") }
        return .array(
            blocks.map { block in
                guard block["type"]?.stringValue == "image", let source = block["source"] else {
                    return .object(JSONObject([("type", .string("text")), ("text", block["text"] ?? .string(""))]))
                }
                let mediaType = source["media_type"]?.stringValue ?? "image/png"
                let url = "data:\(mediaType);base64,\(source["data"]?.stringValue ?? "")"
                return .object(
                    JSONObject([
                        ("type", .string("image_url")), ("image_url", .object(JSONObject([("url", .string(url))]))),
                    ]))
            })
    }

    /// `answerTool`: an agent's final answer is a call of that tool with the answer as its input.
    private static func anthropicResponse(_ completion: JSONValue, answerTool: String? = nil) -> JSONValue {
        let choice = completion["choices"]?.arrayValue?.first
        let message = choice?["message"]
        var content: [JSONValue] = []
        var stop = "end_turn"
        if let calls = message?["tool_calls"]?.arrayValue, !calls.isEmpty {
            // One call (structured output) keeps the fixed id; an agent's calls keep theirs.
            for call in calls.prefix(answerTool == nil ? 1 : calls.count) {
                let function = call["function"]
                let input =
                    function?["arguments"]?.stringValue.flatMap { try? JSONValue(parsing: $0) }
                    ?? .object(JSONObject())
                content.append(
                    .object(
                        JSONObject([
                            ("type", .string("tool_use")),
                            ("id", answerTool == nil ? .string("toolu_fake") : call["id"] ?? .string("toolu_fake")),
                            ("name", function?["name"] ?? .string("")), ("input", input),
                        ])))
            }
            stop = "tool_use"
        } else if let answerTool {
            let text = message?["content"]?.stringValue ?? ""
            content.append(
                .object(
                    JSONObject([
                        ("type", .string("tool_use")), ("id", .string("toolu_answer")), ("name", .string(answerTool)),
                        ("input", (try? JSONValue(parsing: text)) ?? .object(JSONObject([("text", .string(text))]))),
                    ])))
            stop = "tool_use"
        } else {
            content.append(
                .object(JSONObject([("type", .string("text")), ("text", message?["content"] ?? .string(""))])))
        }
        if choice?["finish_reason"]?.stringValue == "length" { stop = "max_tokens" }
        return .object(
            JSONObject([
                ("id", .string("msg_" + (completion["id"]?.stringValue ?? "").suffix(24))),
                ("type", .string("message")),
                ("role", .string("assistant")), ("model", completion["model"] ?? .string("fake")),
                ("content", .array(content)),
                ("stop_reason", .string(stop)),
                (
                    "usage",
                    .object(
                        JSONObject([
                            ("input_tokens", completion["usage"]?["prompt_tokens"] ?? .integer(0)),
                            ("output_tokens", completion["usage"]?["completion_tokens"] ?? .integer(0)),
                        ]))
                ),
            ]))
    }

    // MARK: Gemini

    private static func chatBody(gemini body: JSONValue) -> JSONValue {
        var messages: [JSONValue] = []
        let text = { (content: JSONValue?) in
            (content?["parts"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined()
        }
        if let system = body["systemInstruction"] {
            messages.append(.object(JSONObject([("role", .string("system")), ("content", .string(text(system)))])))
        }
        for content in body["contents"]?.arrayValue ?? [] {
            let parts = content["parts"]?.arrayValue ?? []
            let calls = parts.compactMap { $0["functionCall"] }
            let responses = parts.compactMap { $0["functionResponse"] }
            if !responses.isEmpty {
                for response in responses {
                    let result = response["response"]?["result"]
                    messages.append(
                        .object(
                            JSONObject([
                                ("role", .string("tool")), ("tool_call_id", response["id"] ?? .string("")),
                                ("content", .string(result?.stringValue ?? result?.serialized() ?? "")),
                            ])))
                }
                continue
            }
            let role = content["role"]?.stringValue == "model" ? "assistant" : "user"
            var message = JSONObject([("role", .string(role)), ("content", .string(text(content)))])
            if !calls.isEmpty {
                message["tool_calls"] = .array(
                    calls.map { call in
                        .object(
                            JSONObject([
                                ("id", call["id"] ?? .string("")), ("type", .string("function")),
                                (
                                    "function",
                                    .object(
                                        JSONObject([
                                            ("name", call["name"] ?? .string("")),
                                            (
                                                "arguments",
                                                .string((call["args"] ?? .object(JSONObject())).serialized())
                                            ),
                                        ]))
                                ),
                            ]))
                    })
            }
            messages.append(.object(message))
        }
        var chat = JSONObject([("model", .string("gemini")), ("messages", .array(messages))])
        let declarations = (body["tools"]?.arrayValue ?? []).flatMap { $0["functionDeclarations"]?.arrayValue ?? [] }
        if !declarations.isEmpty {
            chat["tools"] = .array(
                declarations.map { declaration in
                    function(
                        declaration["name"], declaration["description"] ?? .string(""),
                        declaration["parametersJsonSchema"] ?? declaration["parameters"])
                })
        }
        let generation = body["generationConfig"]
        if let schema = generation?["responseJsonSchema"] ?? generation?["responseSchema"] {
            chat["response_format"] = .object(
                JSONObject([
                    ("type", .string("json_schema")),
                    ("json_schema", .object(JSONObject([("name", .string("task_response")), ("schema", schema)]))),
                ]))
        }
        if let count = generation?["candidateCount"] { chat["n"] = count }
        if generation?["responseLogprobs"] == .bool(true) {
            chat["logprobs"] = .bool(true)
            chat["top_logprobs"] = generation?["logprobs"] ?? .integer(0)
        }
        return .object(chat)
    }

    private static func geminiResponse(_ completion: JSONValue) -> JSONValue {
        let candidates = (completion["choices"]?.arrayValue ?? []).map { choice -> JSONValue in
            var candidate = JSONObject()
            let text = choice["message"]?["content"]?.stringValue ?? ""
            // An agent's tool calls are `functionCall` parts.
            let calls: [JSONValue] = (choice["message"]?["tool_calls"]?.arrayValue ?? []).map { call in
                let args = call["function"]?["arguments"]?.stringValue.flatMap { try? JSONValue(parsing: $0) }
                return .object(
                    JSONObject([
                        (
                            "functionCall",
                            .object(
                                JSONObject([
                                    ("id", call["id"] ?? .string("")),
                                    ("name", call["function"]?["name"] ?? .string("")),
                                    ("args", args ?? .object(JSONObject())),
                                ]))
                        )
                    ]))
            }
            candidate["content"] = .object(
                JSONObject([
                    ("role", .string("model")),
                    ("parts", .array(calls.isEmpty ? [.object(JSONObject([("text", .string(text))]))] : calls)),
                ]))
            candidate["finishReason"] = .string(
                choice["finish_reason"]?.stringValue == "length" ? "MAX_TOKENS" : "STOP")
            candidate["index"] = choice["index"] ?? .integer(0)
            if let tokens = choice["logprobs"]?["content"]?.arrayValue {
                let entry = { (token: JSONValue) in
                    JSONValue.object(
                        JSONObject([
                            ("token", token["token"] ?? .string("")),
                            ("logProbability", token["logprob"] ?? .integer(0)),
                        ]))
                }
                candidate["logprobsResult"] = .object(
                    JSONObject([
                        (
                            "topCandidates",
                            .array(
                                tokens.map {
                                    .object(
                                        JSONObject([
                                            ("candidates", .array(($0["top_logprobs"]?.arrayValue ?? []).map(entry)))
                                        ]))
                                })
                        ),
                        ("chosenCandidates", .array(tokens.map(entry))),
                    ]))
            }
            return .object(candidate)
        }
        let prompt = completion["usage"]?["prompt_tokens"] ?? .integer(0)
        let output = completion["usage"]?["completion_tokens"] ?? .integer(0)
        return .object(
            JSONObject([
                ("candidates", .array(candidates)),
                (
                    "usageMetadata",
                    .object(
                        JSONObject([
                            ("promptTokenCount", prompt), ("candidatesTokenCount", output),
                            ("totalTokenCount", .integer(Int((prompt.numberValue ?? 0) + (output.numberValue ?? 0)))),
                        ]))
                ),
                ("modelVersion", .string("fake-gemini")),
            ]))
    }

    /// Gemini's `batchEmbedContents` request as OpenAI's embeddings body, and the answer back.
    static func openAIEmbeddingsBody(gemini body: JSONValue) -> JSONValue {
        let texts = (body["requests"]?.arrayValue ?? []).map { request in
            JSONValue.string(
                (request["content"]?["parts"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined())
        }
        return .object(JSONObject([("model", .string("gemini-embedding")), ("input", .array(texts))]))
    }

    static func geminiEmbeddings(_ embeddings: JSONValue) -> JSONValue {
        let vectors = (embeddings["data"]?.arrayValue ?? []).map { entry in
            JSONValue.object(JSONObject([("values", entry["embedding"] ?? .array([]))]))
        }
        return .object(JSONObject([("embeddings", .array(vectors))]))
    }
}
