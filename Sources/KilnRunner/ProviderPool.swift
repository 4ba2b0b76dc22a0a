import Foundation
import KilnBasics
import KilnFakeProvider
package import KilnModel
package import KilnProviders
package import KilnScheduler

/// A pipeline's providers, ready to call: each with its limiter. `kind: fake` without a `base_url` gets an
/// in-process fake server on loopback, so the no-key demo exercises the same HTTP path as a real provider.
package final class ProviderPool: Sendable {
    /// A provider with the limiter every call to it goes through.
    package struct Entry: Sendable {
        package let provider: any LLMProvider
        package let limiter: ProviderLimiter
    }

    private let entries: [String: Entry]
    private let fakes: [FakeProvider]

    /// Builds the providers the listed names need; throws when a key variable is unset or a kind is not available.
    /// With `openPorts` false, an in-process fake is called directly instead of over loopback HTTP.
    package init(
        pipeline: Pipeline, names: Set<String>, environment: [String: String], concurrencyOverride: Int?, openPorts: Bool = true
    ) throws {
        var entries: [String: Entry] = [:]
        var fakes: [FakeProvider] = []
        for name in names.sorted() {
            guard var config = pipeline.provider(named: name) else {
                throw RunSetupError("unknown provider '\(name)'")
            }
            if let concurrencyOverride { config.maxConcurrency = concurrencyOverride }
            var apiKey: String?
            var inProcess: FakeProvider?
            switch config.kind {
            case .fake:
                if config.baseURL == nil {
                    let fake = FakeProvider()
                    if openPorts {
                        try fake.start()
                        fakes.append(fake)
                        config.baseURL = fake.baseURL
                    } else {
                        config.baseURL = "http://in-process/v1"
                        inProcess = fake
                    }
                }
            case .openai, .anthropic, .gemini:
                if let variable = config.apiKeyEnv {
                    guard let key = environment[variable], !key.isEmpty else {
                        for fake in fakes { fake.stop() }
                        throw RunSetupError(
                            "\(variable) is not set; provider '\(name)' needs it",
                            hint: "export \(variable)=<your key>, or set api_key_env to the variable that holds it")
                    }
                    apiKey = key
                }
            }
            // libcurl's multi handle holds a socket pair for wake-ups: not created for an in-process fake.
            let transport: any HTTPTransport =
                inProcess.map { InProcessFakeTransport(fake: $0) } ?? CurlTransport(maxConnections: config.maxConcurrency)
            let provider: any LLMProvider =
                switch config.kind {
                case .anthropic: AnthropicProvider(config: config, apiKey: apiKey, transport: transport)
                case .gemini: GeminiProvider(config: config, apiKey: apiKey, transport: transport)
                case .openai, .fake: OpenAICompatibleProvider(config: config, apiKey: apiKey, transport: transport)
                }
            entries[name] = Entry(
                provider: provider,
                limiter: ProviderLimiter(
                    maxConcurrency: config.maxConcurrency, requestsPerMinute: config.requestsPerMinute,
                    tokensPerMinute: config.tokensPerMinute))
        }
        self.entries = entries
        self.fakes = fakes
    }

    package subscript(name: String) -> Entry? { entries[name] }

    /// Stops the in-process fake servers.
    package func shutdown() {
        for fake in fakes { fake.stop() }
    }
}
