package import KilnBasics
package import KilnModel

/// A candidate token and its log probability.
package struct TokenAlternative: Sendable, Hashable {
    package var token: String
    package var logprob: Double

    package init(token: String, logprob: Double) {
        self.token = token
        self.logprob = logprob
    }
}

/// One token's log probability and its most likely alternatives.
package struct TokenLogprob: Sendable, Hashable {
    package var token: String
    package var logprob: Double
    package var alternatives: [TokenAlternative]

    package init(token: String, logprob: Double, alternatives: [TokenAlternative] = []) {
        self.token = token
        self.logprob = logprob
        self.alternatives = alternatives
    }
}

/// One answer of a model.
package struct ChatChoice: Sendable, Hashable {
    /// The text answer, or the JSON text for structured output (tool-call arguments included).
    package var text: String
    /// A reasoning model's own thinking, when the provider returns it separately.
    package var reasoning: String?
    package var logprobs: [TokenLogprob]?
    package var finishReason: String?
    /// The tools the model asked to call (a request that offered tools).
    package var toolCalls: [ToolCall]

    package init(
        text: String, reasoning: String? = nil, logprobs: [TokenLogprob]? = nil, finishReason: String? = nil,
        toolCalls: [ToolCall] = []
    ) {
        self.text = text
        self.reasoning = reasoning
        self.logprobs = logprobs
        self.finishReason = finishReason
        self.toolCalls = toolCalls
    }
}

/// What the provider said about its limits in the response headers, so the limiter can slow down before a 429.
package struct RateLimitHints: Sendable, Hashable {
    package var remainingRequests: Int?
    package var remainingTokens: Int?
    /// Seconds until the request budget resets.
    package var requestsResetSeconds: Double?
    package var tokensResetSeconds: Double?

    package init(
        remainingRequests: Int? = nil, remainingTokens: Int? = nil, requestsResetSeconds: Double? = nil,
        tokensResetSeconds: Double? = nil
    ) {
        self.remainingRequests = remainingRequests
        self.remainingTokens = remainingTokens
        self.requestsResetSeconds = requestsResetSeconds
        self.tokensResetSeconds = tokensResetSeconds
    }
}

/// A successful answer: choices, usage, and the raw body for the checkpoint store.
package struct ChatResponse: Sendable, Hashable {
    package var choices: [ChatChoice]
    package var usage: Usage
    package var rateLimit: RateLimitHints
    package var raw: JSONValue

    package init(choices: [ChatChoice], usage: Usage, rateLimit: RateLimitHints = RateLimitHints(), raw: JSONValue) {
        self.choices = choices
        self.usage = usage
        self.rateLimit = rateLimit
        self.raw = raw
    }
}
