package import KilnBasics

/// The API family a provider speaks.
package enum ProviderKind: String, Sendable, Hashable, CaseIterable {
    /// OpenAI-compatible chat completions (OpenAI, OpenRouter, Together, Fireworks, Groq, Ollama, vLLM, llama.cpp).
    case openai
    case anthropic
    case gemini
    /// The in-repo deterministic OpenAI-compatible fake, for demos and tests; needs no key.
    case fake
}

/// How a provider is asked for structured (JSON) output.
package enum StructuredOutputMode: String, Sendable, Hashable, CaseIterable {
    case jsonSchema = "json_schema"
    case functionCalling = "function_calling"
    case jsonMode = "json_mode"
    case jsonInstructions = "json_instructions"
}

/// Default sampling parameters sent with every request to a provider.
package struct ModelParams: Sendable, Hashable {
    package var temperature: Double?
    package var maxTokens: Int?
    package var topP: Double?
    package var seed: Int?

    package init(temperature: Double? = nil, maxTokens: Int? = nil, topP: Double? = nil, seed: Int? = nil) {
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.topP = topP
        self.seed = seed
    }
}

/// One named model endpoint with its limits, prices and defaults.
package struct ProviderConfig: Sendable, Hashable {
    package var name: String
    package var kind: ProviderKind
    package var model: String
    package var baseURL: String?
    /// The environment variable holding the key; the key itself never enters the model.
    package var apiKeyEnv: String?
    package var maxConcurrency: Int
    package var requestsPerMinute: Int?
    /// How many of the `rpm` requests may go at once (a sliding window of that many); nil: one second's worth.
    package var burst: Int?
    package var tokensPerMinute: Int?
    package var timeoutSeconds: Double
    package var maxRetries: Int
    /// USD per million input tokens.
    package var inputPricePerMillion: Double?
    /// USD per million output tokens.
    package var outputPricePerMillion: Double?
    package var params: ModelParams
    package var structuredOutput: StructuredOutputMode?
    /// Send a stage's uncached requests through the provider's batch API (OpenAI Batch, Anthropic Message
    /// Batches) instead of one call each; nil: live calls.
    package var batch: BatchSettings?
    package var location: SourceLocation

    package static let defaultMaxConcurrency = 8
    package static let defaultTimeoutSeconds = 120.0
    package static let defaultMaxRetries = 5

    package init(
        name: String, kind: ProviderKind, model: String, baseURL: String? = nil, apiKeyEnv: String? = nil,
        maxConcurrency: Int = defaultMaxConcurrency, requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil,
        timeoutSeconds: Double = defaultTimeoutSeconds, maxRetries: Int = defaultMaxRetries,
        inputPricePerMillion: Double? = nil, outputPricePerMillion: Double? = nil, params: ModelParams = ModelParams(),
        structuredOutput: StructuredOutputMode? = nil, batch: BatchSettings? = nil, burst: Int? = nil,
        location: SourceLocation
    ) {
        self.burst = burst
        self.name = name
        self.kind = kind
        self.model = model
        self.baseURL = baseURL
        self.apiKeyEnv = apiKeyEnv
        self.maxConcurrency = maxConcurrency
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.timeoutSeconds = timeoutSeconds
        self.maxRetries = maxRetries
        self.inputPricePerMillion = inputPricePerMillion
        self.outputPricePerMillion = outputPricePerMillion
        self.params = params
        self.structuredOutput = structuredOutput
        self.batch = batch
        self.location = location
    }
}
