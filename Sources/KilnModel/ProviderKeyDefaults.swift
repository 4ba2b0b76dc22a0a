/// The environment variable a provider's key is read from when `api_key_env` is not given,
/// named as Kiln names them so a Kiln user's environment works unchanged.
package enum ProviderKeyDefaults {
    /// Known OpenAI-compatible hosts, the variable Kiln reads for each, and Kiln's name for the provider.
    private static let openAICompatibleHosts: [(hostSuffix: String, variable: String, kilnName: String)] = [
        ("openrouter.ai", "OPENROUTER_API_KEY", "openrouter"),
        ("together.xyz", "TOGETHERAI_API_KEY", "together_ai"),
        ("together.ai", "TOGETHERAI_API_KEY", "together_ai"),
        ("fireworks.ai", "FIREWORKS_API_KEY", "fireworks_ai"),
        ("groq.com", "GROQ_API_KEY", "groq"),
        ("openai.com", "OPENAI_API_KEY", "openai"),
    ]

    /// Kiln's `ModelProviderName` for an endpoint (what Kiln records as `model_provider`); any other
    /// OpenAI-compatible server, kiln-pipe's fake included, is `openai_compatible`.
    package static func kilnProviderName(kind: ProviderKind, baseURL: String?) -> String {
        switch kind {
        case .fake: return "openai_compatible"
        case .anthropic: return "anthropic"
        case .gemini: return "gemini_api"
        case .openai:
            guard let baseURL else { return "openai" }
            return knownHost(of: baseURL)?.kilnName ?? "openai_compatible"
        }
    }

    private static func knownHost(of url: String) -> (hostSuffix: String, variable: String, kilnName: String)? {
        let host = host(of: url)
        return openAICompatibleHosts.first { host == $0.hostSuffix || host.hasSuffix("." + $0.hostSuffix) }
    }

    /// The default key variable, or nil when the endpoint needs no key (the fake, or a self-hosted server).
    package static func apiKeyEnv(kind: ProviderKind, baseURL: String?) -> String? {
        switch kind {
        case .fake: return nil
        case .anthropic: return "ANTHROPIC_API_KEY"
        case .gemini: return "GEMINI_API_KEY"
        case .openai:
            guard let baseURL else { return "OPENAI_API_KEY" }
            return knownHost(of: baseURL)?.variable
        }
    }

    /// The host part of a URL, lower-cased, without scheme, credentials, port or path.
    package static func host(of url: String) -> String {
        var rest = Substring(url)
        if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            return String(rest[rest.index(after: rest.startIndex)..<close]).lowercased()
        }
        if let colon = rest.firstIndex(of: ":") { rest = rest[..<colon] }
        return rest.lowercased()
    }
}
