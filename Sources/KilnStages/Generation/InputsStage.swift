import Foundation
package import KilnBasics
package import KilnModel
import KilnProviders
import KilnStore

/// `inputs`: `per_topic` model inputs for each topic path, plain text or matching the task's input schema.
struct InputsStage: UnitStage {
    let settings: InputsSettings
    let services: StageServices
    /// Everything every unit shares, hashed once.
    let fingerprint: String

    init(settings: InputsSettings, services: StageServices) {
        self.settings = settings
        self.services = services
        fingerprint = services.fingerprint(
            type: .inputs, promptVersion: GenerationPrompts.inputsVersion,
            extra: [
                ("input_schema", services.task.inputSchema ?? .null), ("per_topic", .integer(settings.perTopic)),
                ("guidance", settings.guidance.map(JSONValue.string) ?? .null),
            ])
    }

    private var task: TaskDefinition { services.task }
    private var stageID: String { services.stageID }

    var filteredField: String { "input" }
    var filters: QualityFilters { settings.filters }

    func units(for item: PipelineItem) -> [PipelineItem] { [item] }

    func cacheKeys(for topic: PipelineItem) -> [String] { [key(for: topic)] }

    /// The content address of one topic's inputs: the stage's fingerprint and the topic's place in the tree.
    private func key(for topic: PipelineItem) -> String {
        CheckpointKey.make(
            JSONObject([
                ("stage", .string(fingerprint)),
                ("root", topic.fields["root"]?.stringValue.map(JSONValue.string) ?? .null),
                ("path", topic.fields["topic_path"] ?? .null),
            ]))
    }

    func run(_ topic: PipelineItem) async -> UnitResult {
        let path = topic.fields["topic_path"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let root = topic.fields["root"]?.stringValue
        let key = key(for: topic)
        let record = services.mode.useCache ? (try? await services.store.records(forKeys: [key]))?[key] : nil
        if let record, record.status == .done, let items = record.item.flatMap(PipelineItem.decode) {
            return .done(items, cached: true, usage: record.usage, requests: 0)
        }
        let count = settings.perTopic
        let request = ChatRequest(
            messages: [
                .system(GenerationPrompts.inputsSystem),
                .user(
                    GenerationPrompts.inputsUser(
                        task: task, path: [root].compactMap { $0 } + path, count: count, guidance: settings.guidance)),
            ],
            structured: StructuredOutputSpec(
                name: "generated_samples",
                schema: GenerationPrompts.inputsSchema(count: count, inputSchema: task.inputSchema)))
        if services.mode.offline {
            return services.offlineResult(
                record: record, requests: [request], place: "\(path.joined(separator: " > ")): ")
        }
        guard let executor = services.executor, let entry = services.pool?[settings.provider] else {
            return .failed("provider '\(settings.provider)' is not available", usage: Usage(), requests: 0)
        }
        let inputSchema = task.inputSchema
        do {
            switch try await executor.execute(
                request, on: entry, fresh: !services.mode.useCache,
                validate: { Self.samples(in: $0.choices[0].text, count: count, inputSchema: inputSchema) })
            {
            case .succeeded(let samples, _, let call, let attempts, let usage, let latency):
                let items = samples.enumerated().map { index, sample in
                    var fields = JSONObject()
                    fields["input"] = sample
                    fields["topic_path"] = topic.fields["topic_path"] ?? .array([])
                    if let root { fields["root"] = .string(root) }
                    fields["provenance"] = .object(
                        JSONObject([
                            ("stage", .string(stageID)), ("provider", .string(settings.provider)),
                            ("model", .string(services.provider?.model ?? "")),
                            ("prompt_version", .string(GenerationPrompts.inputsVersion)),
                            ("sample_index", .integer(index)),
                        ]))
                    return PipelineItem(id: String(SHA256.hex("\(key)#\(index)").prefix(16)), fields: fields)
                }
                let record = CheckpointRecord(
                    key: key, stage: stageID, status: .done, item: PipelineItem.encode(items), usage: usage,
                    latencyMS: latency, attempts: attempts, calls: [call])
                try await services.store.checkpoint(record)
                return .done(items, cached: false, usage: usage, requests: attempts)
            case .failed(let reason, let attempts, let usage):
                try? await services.store.write([
                    CheckpointRecord(
                        key: key, stage: stageID, status: .failed, error: reason, usage: usage, attempts: attempts)
                ])
                return .failed("\(path.joined(separator: " > ")): \(reason)", usage: usage, requests: attempts)
            }
        } catch {
            return .stopped(error)
        }
    }

    /// Exactly `count` samples, each non-empty text or a JSON object valid against the input schema; an answer
    /// with any invalid sample is regenerated.
    static func samples(in text: String, count: Int, inputSchema: JSONValue?) -> Result<[JSONValue], ValidationFailure>
    {
        guard let object = AnswerValidation.extractJSON(from: text),
            let samples = object["generated_samples"]?.arrayValue
        else {
            return .failure(ValidationFailure("no generated_samples list in the answer"))
        }
        guard samples.count >= count else {
            return .failure(ValidationFailure("\(samples.count) samples instead of \(count)"))
        }
        let kept = Array(samples.prefix(count))
        for (index, sample) in kept.enumerated() {
            if let inputSchema {
                let violations = JSONSchemaValidator.violations(of: sample, against: inputSchema)
                if !violations.isEmpty {
                    return .failure(
                        ValidationFailure(
                            "sample \(index + 1) does not match the input schema: \(violations.joined(separator: "; "))"
                        ))
                }
            } else if (sample.stringValue ?? "").allSatisfy(\.isWhitespace) {
                return .failure(ValidationFailure("sample \(index + 1) is empty or not text"))
            }
        }
        return .success(kept)
    }
}

/// The parts of a provider's configuration that can change an answer (never its concurrency, limits or key).
package enum ModelFingerprint {
    package static func json(_ provider: ProviderConfig?) -> JSONValue {
        var model = JSONObject()
        model["kind"] = .string(provider?.kind.rawValue ?? "")
        model["model"] = .string(provider?.model ?? "")
        model["endpoint"] =
            provider?.kind == .fake && provider?.baseURL == nil
            ? .string("in-process") : provider?.baseURL.map(JSONValue.string) ?? .null
        model["temperature"] = provider?.params.temperature.map(JSONValue.double) ?? .null
        model["top_p"] = provider?.params.topP.map(JSONValue.double) ?? .null
        model["max_tokens"] = provider?.params.maxTokens.map(JSONValue.integer) ?? .null
        model["seed"] = provider?.params.seed.map(JSONValue.integer) ?? .null
        model["structured_output"] = provider?.structuredOutput.map { .string($0.rawValue) } ?? .null
        return .object(model)
    }
}

extension InputsStage: OneProviderUnitStage {
    var provider: String { settings.provider }
}
