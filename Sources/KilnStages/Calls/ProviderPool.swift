import Foundation
import KilnBasics
package import KilnModel
package import KilnProviders
package import KilnScheduler
import Synchronization

/// A pipeline's providers, ready to call: each with its limiter. `kind: fake` without a `base_url` gets an
/// in-process fake server on loopback, so the no-key demo exercises the same HTTP path as a real provider.
package final class ProviderPool: Sendable {
    /// A provider with the limiter every call to it goes through.
    package struct Entry: Sendable {
        package let provider: any LLMProvider
        package let limiter: ProviderLimiter
        /// Where the units calling this provider run best: its HTTP client's event loop, when it is one.
        package let executor: (any TaskExecutor)?
        /// Set once the provider has answered anything in this run (even an error status).
        package let reached = ReachedFlag()

        /// How many units calling this provider may be under way at once: its concurrency, or for a provider with
        /// `batch: true` a whole batch's worth (they wait for the batch together).
        package var unitConcurrency: Int { provider.config.batch?.maxRequests ?? provider.config.maxConcurrency }
    }

    /// Whether a provider has answered yet: one that never has and refuses connections stops the run at once.
    package final class ReachedFlag: Sendable {
        private let value = Atomic(false)
        package init() {}
        package var isSet: Bool { value.load(ordering: .relaxed) }
        package func set() { value.store(true, ordering: .relaxed) }
    }

    private let entries: [String: Entry]
    /// Stops the fake model servers this pool started.
    private let stops: [@Sendable () -> Void]
    private let transports: [CurlTransport]

    /// Builds the providers the listed names need; throws when a key variable is unset or a kind is not available.
    /// `fakeModel` serves `kind: fake` providers without a base_url; with `openPorts` false it is called in process
    /// instead of over loopback HTTP.
    package init(
        pipeline: Pipeline, names: Set<String>, environment: [String: String], concurrencyOverride: Int?,
        fakeModel: (any FakeModelHost)?, openPorts: Bool = true
    ) throws {
        var entries: [String: Entry] = [:]
        var stops: [@Sendable () -> Void] = []
        var transports: [CurlTransport] = []
        /// What was started before a setup error is stopped again.
        func abandon(_ error: any Error) -> any Error {
            for transport in transports { transport.shutdown() }
            for stop in stops { stop() }
            return error
        }
        for name in names.sorted() {
            guard var config = pipeline.provider(named: name) else {
                throw abandon(RunSetupError("unknown provider '\(name)'"))
            }
            if let concurrencyOverride { config.maxConcurrency = concurrencyOverride }
            var apiKey: String?
            var inProcess: (any HTTPTransport)?
            switch config.kind {
            case .fake:
                if config.baseURL == nil {
                    guard let fakeModel else {
                        throw abandon(
                            RunSetupError(
                                "provider '\(name)' is kind: fake without a base_url, and this program has no "
                                    + "fake model",
                                hint: "give it the base_url of a running kiln-pipe-fake-provider"))
                    }
                    if openPorts {
                        do {
                            let server = try fakeModel.startServer()
                            stops.append(server.stop)
                            config.baseURL = server.baseURL
                        } catch {
                            throw abandon(error)
                        }
                    } else {
                        config.baseURL = "http://in-process/v1"
                        inProcess = fakeModel.inProcessTransport()
                    }
                }
            case .openai, .anthropic, .gemini:
                if let variable = config.apiKeyEnv {
                    guard let key = environment[variable], !key.isEmpty else {
                        throw abandon(
                            RunSetupError(
                                "\(variable) is not set; provider '\(name)' needs it",
                                hint: "export \(variable)=<your key>, or set api_key_env to the variable that holds it")
                        )
                    }
                    apiKey = key
                }
            }
            // libcurl's multi handle holds a socket pair for wake-ups: not created for an in-process fake.
            let transport: any HTTPTransport
            if let inProcess {
                transport = inProcess
            } else {
                let curl = CurlTransport(maxConnections: config.maxConcurrency)
                transports.append(curl)
                transport = curl
            }
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
                    tokensPerMinute: config.tokensPerMinute, burst: config.burst),
                executor: transport as? any TaskExecutor)
        }
        self.entries = entries
        self.stops = stops
        self.transports = transports
    }

    /// Runs `body` with the pool; its HTTP clients and fake servers are shut down when `body` returns or throws.
    package static func with<Result>(
        pipeline: Pipeline, names: Set<String>, environment: [String: String], concurrencyOverride: Int?,
        fakeModel: (any FakeModelHost)?, openPorts: Bool = true, _ body: (ProviderPool) async throws -> Result
    ) async throws -> Result {
        let pool = try ProviderPool(
            pipeline: pipeline, names: names, environment: environment, concurrencyOverride: concurrencyOverride,
            fakeModel: fakeModel, openPorts: openPorts)
        defer { pool.shutdown() }
        return try await body(pool)
    }

    package subscript(name: String) -> Entry? { entries[name] }

    /// Ends the HTTP clients' event loops and stops the in-process fake servers.
    package func shutdown() {
        for transport in transports { transport.shutdown() }
        for stop in stops { stop() }
    }
}
