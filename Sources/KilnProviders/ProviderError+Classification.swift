import KilnBasics
import KilnModel

extension ProviderError {
    /// What every API means by the same status: 429 slow down, 401 (or a 403/400 about the key) a rejected key,
    /// 408 a timeout, 5xx a server-side condition retried without slowing down, anything else a refusal. Each
    /// provider decides the API-specific cases (quota, which 403 is about the key) before calling this.
    static func classified(
        status: Int, message: String, retryAfter: Double?, aboutTheKey: Bool, provider: ProviderConfig
    ) -> ProviderError {
        switch status {
        case 429:
            return ProviderError(.rateLimited, message, status: status, retryAfter: retryAfter)
        case 400...403 where aboutTheKey || status == 401:
            let variable =
                provider.apiKeyEnv.map { "\($0) was rejected by provider '\(provider.name)'" }
                ?? "provider '\(provider.name)' rejected the request as unauthenticated"
            return ProviderError(.unauthorized, "\(variable): \(message)", status: status)
        case 408:
            return ProviderError(.timeout, message, status: status, retryAfter: retryAfter)
        case 500...599:
            return ProviderError(
                .serverError, message.isEmpty ? "server error" : message, status: status, retryAfter: retryAfter)
        default:
            return ProviderError(.rejected, message.isEmpty ? "request refused" : message, status: status)
        }
    }
}

extension LLMProvider {
    /// A chat answer with its usage priced at the provider's rates and the rate-limit hints of its headers.
    func chatResponse(
        choices: [ChatChoice], inputTokens: Int, outputTokens: Int, headers: [String: String], raw: JSONValue
    ) -> ChatResponse {
        ChatResponse(
            choices: choices,
            usage: Usage(
                inputTokens: inputTokens, outputTokens: outputTokens,
                costUSD: cost(inputTokens: inputTokens, outputTokens: outputTokens)),
            rateLimit: RateLimitHeaders.hints(from: headers), raw: raw)
    }

    /// The configured base URL (or the API's default) without trailing slashes.
    static func base(of config: ProviderConfig, default fallback: String) -> String {
        var base = config.baseURL ?? fallback
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }
}
