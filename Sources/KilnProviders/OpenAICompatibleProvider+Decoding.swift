import Foundation
import KilnBasics
import KilnModel

extension OpenAICompatibleProvider {
    package func decodeChat(_ response: HTTPResponse) throws(ProviderError) -> ChatResponse {
        let (json, choices) = try success(response, listing: "choices", kind: "a chat completion")
        guard !choices.isEmpty else {
            throw ProviderError(.invalidResponse, "the answer has no choices", status: response.status)
        }
        let decoded = choices.map(Self.choice)
        let inputTokens = json["usage"]?["prompt_tokens"]?.numberValue.map { Int($0) } ?? 0
        let outputTokens = json["usage"]?["completion_tokens"]?.numberValue.map { Int($0) } ?? 0
        return chatResponse(
            choices: decoded, inputTokens: inputTokens, outputTokens: outputTokens, headers: response.headers, raw: json
        )
    }

    /// The body of a successful response and its array `field`; a classified error otherwise.
    private func success(
        _ response: HTTPResponse, listing field: String, kind: String
    ) throws(ProviderError)
        -> (JSONValue, [JSONValue])
    {
        let json = try? JSONValue(parsing: response.body)
        var text: String { String(decoding: response.body, as: UTF8.self) }
        guard (200..<300).contains(response.status) else {
            throw Self.error(
                status: response.status, body: json, text: text, headers: response.headers, provider: config)
        }
        guard let json, let list = json[field]?.arrayValue else {
            throw ProviderError(
                .invalidResponse, "the answer is not \(kind) (\(text.isEmpty ? "empty body" : "unreadable JSON"))",
                status: response.status)
        }
        return (json, list)
    }

    package func decodeEmbeddings(_ response: HTTPResponse, expected: Int) throws(ProviderError) -> EmbeddingResponse {
        let (json, data) = try success(response, listing: "data", kind: "an embeddings list")
        var vectors = [[Float]?](repeating: nil, count: expected)
        for (position, entry) in data.enumerated() {
            let index = entry["index"]?.numberValue.map { Int($0) } ?? position
            guard vectors.indices.contains(index), let values = entry["embedding"]?.arrayValue else { continue }
            vectors[index] = values.map { Float($0.numberValue ?? 0) }
        }
        let complete = vectors.compactMap { $0 }
        guard complete.count == expected, let width = complete.first?.count, width > 0,
            complete.allSatisfy({ $0.count == width })
        else {
            throw ProviderError(
                .invalidResponse,
                "the embeddings answer has \(data.count) vectors for \(expected) inputs, or vectors of unequal length",
                status: response.status)
        }
        let inputTokens = json["usage"]?["prompt_tokens"]?.numberValue.map { Int($0) } ?? 0
        return EmbeddingResponse(
            vectors: complete,
            usage: Usage(
                inputTokens: inputTokens, outputTokens: 0, costUSD: cost(inputTokens: inputTokens, outputTokens: 0)),
            rateLimit: RateLimitHeaders.hints(from: response.headers), raw: json)
    }

    private static func choice(_ choice: JSONValue) -> ChatChoice {
        let message = choice["message"]
        var text = message?["content"]?.stringValue ?? ""
        let calls = (message?["tool_calls"]?.arrayValue ?? []).map { call in
            let arguments = call["function"]?["arguments"]
            return ToolCall(
                id: call["id"]?.stringValue ?? "", name: call["function"]?["name"]?.stringValue ?? "",
                arguments: arguments?.stringValue ?? arguments?.serialized() ?? "{}")
        }
        // Structured output through function calling arrives as a call's arguments; a tool turn's text stays.
        if text.isEmpty, let first = calls.first { text = first.arguments }
        let reasoning = (message?["reasoning_content"] ?? message?["reasoning"])?.stringValue
        let logprobs = choice["logprobs"]?["content"]?.arrayValue?.map { entry in
            TokenLogprob(
                token: entry["token"]?.stringValue ?? "", logprob: entry["logprob"]?.numberValue ?? 0,
                alternatives: (entry["top_logprobs"]?.arrayValue ?? []).map {
                    TokenAlternative(token: $0["token"]?.stringValue ?? "", logprob: $0["logprob"]?.numberValue ?? 0)
                })
        }
        return ChatChoice(
            text: text, reasoning: reasoning, logprobs: logprobs, finishReason: choice["finish_reason"]?.stringValue,
            toolCalls: calls)
    }

    /// Classifies an error response; the provider's own message is kept, since it usually says what is wrong.
    static func error(
        status: Int, body: JSONValue?, text: String, headers: [String: String], provider: ProviderConfig
    ) -> ProviderError {
        let message =
            body?["error"]?["message"]?.stringValue ?? body?["message"]?.stringValue
            ?? String(text.prefix(300)).trimmingCharacters(in: .whitespacesAndNewlines)
        let code = (body?["error"]?["code"]?.stringValue ?? "") + " " + (body?["error"]?["type"]?.stringValue ?? "")
        let retryAfter = RateLimitHeaders.retryAfter(from: headers)
        if status == 429, code.contains("insufficient_quota") {
            return ProviderError(
                .quotaExhausted, "the account of provider '\(provider.name)' is out of quota: \(message)",
                status: status)
        }
        return .classified(
            status: status, message: message, retryAfter: retryAfter,
            aboutTheKey: status == 401 || code.contains("api_key") || code.contains("authentication"),
            provider: provider)
    }
}
