import KilnBasics
import KilnModel
import Yams

extension PipelineBuilder {
    static let providerKeys = [
        "kind", "model", "base_url", "api_key_env", "max_concurrency", "rpm", "burst", "tpm", "timeout_s",
        "max_retries",
        "input_price_per_million", "output_price_per_million", "temperature", "max_tokens", "top_p", "seed",
        "structured_output", "batch", "batch_size", "batch_poll_max_s", "batch_discount",
    ]

    mutating func readProviders(_ node: Node?) -> [ProviderConfig] {
        guard let node else { return [] }
        guard case .mapping(let mapping) = node else {
            reader.error(
                at: node,
                "expected a mapping of provider names to settings for 'providers', got \(reader.describe(node))",
                hint: "for example providers: {local: {kind: fake}}")
            return []
        }
        var providers: [ProviderConfig] = []
        for (keyNode, value) in mapping {
            guard let name = keyNode.string, Self.isValidName(name) else {
                reader.error(
                    at: keyNode, "invalid provider name \(reader.describe(keyNode))",
                    hint: "use letters, digits, '_', '-' and '.'")
                continue
            }
            declaredProviders[name] = keyNode
            if let provider = readProvider(name: name, value) {
                providers.append(provider)
                providerKinds[name] = provider.kind
            }
        }
        return providers
    }

    private func readProvider(name: String, _ node: Node) -> ProviderConfig? {
        guard
            let fields = reader.fields(
                node, context: "provider '\(name)'", allowed: Self.providerKeys, required: ["kind"])
        else { return nil }
        let kind: ProviderKind? = reader.choice(fields["kind"], "provider kind")
        let model = reader.string(fields["model"], "model")
        if kind != nil, kind != .fake, model == nil, !fields.has("model") {
            reader.error(
                at: node, "provider '\(name)' is missing required key 'model'",
                hint: "name the model the endpoint serves, e.g. model: gpt-4o-mini")
        }
        // An empty base_url (`"${LLM_BASE_URL:-}"` with the variable unset) means the kind's default endpoint.
        let baseURL = reader.string(fields["base_url"], "base_url", nonEmpty: false).flatMap {
            $0.allSatisfy(\.isWhitespace) ? nil : $0
        }
        if let baseURL, !(baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://")) {
            reader.error(
                at: fields["base_url"], "base_url must start with http:// or https://, got '\(baseURL)'",
                hint: "for example base_url: http://127.0.0.1:11434/v1")
        }
        let apiKeyEnv = readKeyVariable(fields, provider: name, kind: kind, baseURL: baseURL)
        let maxConcurrency = reader.int(fields["max_concurrency"], "max_concurrency", in: 1...10_000)
        let rpm = reader.int(fields["rpm"], "rpm", in: 1...Int.max)
        let tpm = reader.int(fields["tpm"], "tpm", in: 1...Int.max)
        let burst = reader.int(fields["burst"], "burst", in: 1...Int.max)
        if burst != nil, rpm == nil {
            reader.error(
                at: fields.keyNode("burst"),
                "'burst' is how many of the rpm requests may go at once, but there is no rpm",
                hint: "add rpm: N, the provider's requests per minute, or remove burst")
        } else if let burst, let rpm, burst > rpm {
            reader.error(
                at: fields["burst"],
                "burst \(burst) is more than rpm \(rpm): no more than a minute's requests go at once",
                hint: "burst: \(rpm) sends the whole minute at once, for a provider that counts a sliding minute")
        }
        let timeout = reader.double(fields["timeout_s"], "timeout_s", in: 0...86_400)
        if let timeout, timeout == 0 { reader.error(at: fields["timeout_s"], "'timeout_s' must be greater than 0") }
        let maxRetries = reader.int(fields["max_retries"], "max_retries", in: 0...100)
        let inputPrice = reader.double(fields["input_price_per_million"], "input_price_per_million", in: 0...1_000_000)
        let outputPrice = reader.double(
            fields["output_price_per_million"], "output_price_per_million", in: 0...1_000_000)
        let params = ModelParams(
            temperature: reader.double(fields["temperature"], "temperature", in: 0...2),
            maxTokens: reader.int(fields["max_tokens"], "max_tokens", in: 1...10_000_000),
            topP: reader.double(fields["top_p"], "top_p", in: 0...1),
            seed: reader.int(fields["seed"], "seed"))
        let structured: StructuredOutputMode? = reader.choice(fields["structured_output"], "structured_output")
        guard let kind else { return nil }
        let batch = readBatch(fields, provider: name, kind: kind)
        return ProviderConfig(
            name: name, kind: kind, model: model ?? (kind == .fake ? "fake" : ""), baseURL: baseURL,
            apiKeyEnv: apiKeyEnv, maxConcurrency: maxConcurrency ?? ProviderConfig.defaultMaxConcurrency,
            requestsPerMinute: rpm, tokensPerMinute: tpm,
            timeoutSeconds: timeout ?? ProviderConfig.defaultTimeoutSeconds,
            maxRetries: maxRetries ?? ProviderConfig.defaultMaxRetries, inputPricePerMillion: inputPrice,
            outputPricePerMillion: outputPrice, params: params, structuredOutput: structured, batch: batch,
            burst: burst, location: reader.location(node))
    }

    /// `batch: true` and its settings; only the kinds whose API has batches may ask for it.
    private func readBatch(_ fields: Fields, provider: String, kind: ProviderKind) -> BatchSettings? {
        let limit = kind == .anthropic ? 100_000 : 50_000
        let size = reader.int(fields["batch_size"], "batch_size", in: 1...limit)
        let poll = reader.double(fields["batch_poll_max_s"], "batch_poll_max_s", in: 1...3_600)
        let discount = reader.double(fields["batch_discount"], "batch_discount", in: 0...1)
        guard reader.bool(fields["batch"], "batch") == true else {
            for name in ["batch_size", "batch_poll_max_s", "batch_discount"] {
                if let node = fields[name] {
                    reader.warning(
                        at: node, "'\(name)' has no effect without 'batch: true' (provider '\(provider)')",
                        hint: "add batch: true to send this provider's calls through its batch API")
                }
            }
            return nil
        }
        guard kind != .gemini else {
            reader.error(
                at: fields["batch"],
                "provider '\(provider)' is kind gemini: kiln-pipe sends batches through OpenAI's Batch API and "
                    + "Anthropic's Message Batches only",
                hint: "remove batch: true, or use kind: openai or kind: anthropic")
            return nil
        }
        return BatchSettings(
            maxRequests: size ?? min(limit, BatchSettings.defaultMaxRequests),
            maxPollSeconds: poll ?? BatchSettings.defaultMaxPollSeconds,
            priceFactor: discount ?? BatchSettings.defaultPriceFactor)
    }

    /// The key's environment variable: named, or Kiln's default for the endpoint; warns when it is not set.
    private func readKeyVariable(_ fields: Fields, provider: String, kind: ProviderKind?, baseURL: String?) -> String? {
        let node = fields["api_key_env"]
        var variable: String?
        if let node, let name = reader.string(node, "api_key_env") {
            if SecretPatterns.looksLikeSecret(name) {
                return nil  // already reported by the secret scanner
            }
            guard Interpolator.isValidName(name) else {
                reader.error(
                    at: node, "api_key_env must name an environment variable, got '\(name)'",
                    hint: "use the variable's name, e.g. api_key_env: OPENAI_API_KEY")
                return nil
            }
            variable = name
        } else if node == nil, let kind {
            variable = ProviderKeyDefaults.apiKeyEnv(kind: kind, baseURL: baseURL)
        }
        if let variable, (environment[variable] ?? "").isEmpty {
            reader.warning(
                at: node ?? fields.node,
                "environment variable \(variable) is not set (provider '\(provider)' needs it to run)",
                hint: "export \(variable)=... here, or set it as a secret in CI")
        }
        return variable
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy {
                $0 == "_" || $0 == "-" || $0 == "." || ("a"..."z").contains($0) || ("A"..."Z").contains($0)
                    || ("0"..."9").contains($0)
            }
    }
}
