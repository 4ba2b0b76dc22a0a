import Foundation
import KilnBasics
import KilnModel
import KilnProviders
import KilnStore

/// `qna`: `per_chunk` query/answer pairs from each chunk of an ingest stage, written by a model with Kiln's Q&A
/// generation prompt. Each pair is an item with the query as `input`, the answer as `expected` and the chunk it came
/// from as `source_chunk`, so an eval can score retrieval against it (hit@k, MRR) and answers against the reference.
struct QnaStage: UnitStage {
    let settings: QnaSettings
    let services: StageServices
    /// Everything every unit shares, hashed once.
    let fingerprint: String

    init(settings: QnaSettings, services: StageServices) {
        self.settings = settings
        self.services = services
        fingerprint = services.fingerprint(
            type: .qna, promptVersion: QnaPrompt.version,
            extra: [
                ("system", .string(QnaPrompt.system(guidance: settings.guidance))),
                ("schema", QnaPrompt.schema(task: services.task)), ("per_chunk", .integer(settings.perChunk)),
            ])
    }

    var filteredField: String { "input" }
    var filters: QualityFilters { QualityFilters() }

    func units(for chunk: PipelineItem) -> [PipelineItem] {
        (chunk.fields["text"]?.stringValue ?? "").allSatisfy(\.isWhitespace) ? [] : [chunk]
    }

    func cacheKeys(for chunk: PipelineItem) -> [String] { [key(for: chunk)] }

    /// The content address of one chunk's pairs: the stage's fingerprint, the document's name and the chunk's text.
    private func key(for chunk: PipelineItem) -> String {
        CheckpointKey.make(
            JSONObject([
                ("stage", .string(fingerprint)), ("document", .string(Self.documentName(of: chunk))),
                ("text", .string(chunk.fields["text"]?.stringValue ?? "")),
            ]))
    }

    private static func documentName(of chunk: PipelineItem) -> String {
        chunk.fields["name"]?.stringValue ?? chunk.fields["document_id"]?.stringValue ?? ""
    }

    func run(_ chunk: PipelineItem) async -> UnitResult {
        let key = key(for: chunk)
        let record = services.mode.useCache ? (try? await services.store.records(forKeys: [key]))?[key] : nil
        if let record, record.status == .done, let pairs = record.item?["pairs"]?.arrayValue {
            return .done(items(pairs, from: chunk, key: key), cached: true, usage: record.usage, requests: 0)
        }
        let count = settings.perChunk
        let request = ChatRequest(
            messages: [
                .system(QnaPrompt.system(guidance: settings.guidance)),
                .user(
                    QnaPrompt.user(
                        documentName: Self.documentName(of: chunk), parts: [chunk.fields["text"]?.stringValue ?? ""],
                        count: count)),
            ],
            structured: StructuredOutputSpec(name: "generated_qna_pairs", schema: QnaPrompt.schema(task: services.task))
        )
        let place =
            "\(chunk.fields["document_id"]?.stringValue ?? chunk.id) chunk "
            + "\(chunk.fields["chunk_idx"]?.numberValue.map { String(Int($0)) } ?? "?"): "
        if services.mode.offline {
            return services.offlineResult(record: record, requests: [request], place: place)
        }
        guard let executor = services.executor, let entry = services.pool?[settings.provider] else {
            return .failed("provider '\(settings.provider)' is not available", usage: Usage(), requests: 0)
        }
        let task = services.task
        do {
            switch try await executor.execute(
                request, on: entry, fresh: !services.mode.useCache,
                validate: { Self.pairs(in: $0.choices[0].text, count: count, task: task) })
            {
            case .succeeded(let pairs, _, let call, let attempts, let usage, let latency):
                try await services.store.checkpoint(
                    CheckpointRecord(
                        key: key, stage: services.stageID, status: .done,
                        item: .object(JSONObject([("pairs", .array(pairs))])), usage: usage, latencyMS: latency,
                        attempts: attempts, calls: [call]))
                return .done(items(pairs, from: chunk, key: key), cached: false, usage: usage, requests: attempts)
            case .failed(let reason, let attempts, let usage):
                try? await services.store.write([
                    CheckpointRecord(
                        key: key, stage: services.stageID, status: .failed, error: reason, usage: usage,
                        attempts: attempts)
                ])
                return .failed(place + reason, usage: usage, requests: attempts)
            }
        } catch {
            return .stopped(error)
        }
    }

    /// One item per pair, keeping the chunk it came from (its place in the document, for retrieval scores).
    private func items(_ pairs: [JSONValue], from chunk: PipelineItem, key: String) -> [PipelineItem] {
        let source = JSONObject(
            ["document_id", "name", "chunk_idx", "start", "end", "page", "config_hash"].compactMap { name in
                chunk.fields[name].map { (name, $0) }
            })
        return pairs.enumerated().map { index, pair in
            var fields = JSONObject()
            fields["input"] = pair["query"] ?? .null
            fields["expected"] = pair["answer"] ?? .null
            fields["source_chunk"] = .object(source)
            fields["provenance"] = .object(
                JSONObject([
                    ("stage", .string(services.stageID)), ("provider", .string(settings.provider)),
                    ("model", .string(services.provider?.model ?? "")),
                    ("prompt_version", .string(QnaPrompt.version)), ("sample_index", .integer(index)),
                ]))
            let id = "\(chunk.fields["document_id"]?.stringValue ?? chunk.id)#\(key)#\(index)"
            return PipelineItem(id: String(SHA256.hex(id).prefix(16)), fields: fields)
        }
    }

    /// At least `count` pairs (the first `count` are kept), each with a query and an answer that fit the task's
    /// schemas (non-empty text without them); an answer with any bad pair is asked again.
    static func pairs(in text: String, count: Int, task: TaskDefinition) -> Result<[JSONValue], ValidationFailure> {
        guard let object = AnswerValidation.extractJSON(from: text),
            let pairs = object["generated_qna_pairs"]?.arrayValue
        else {
            return .failure(ValidationFailure("no generated_qna_pairs list in the answer"))
        }
        guard pairs.count >= count else {
            return .failure(ValidationFailure("\(pairs.count) Q&A pairs instead of \(count)"))
        }
        let kept = Array(pairs.prefix(count))
        for (index, pair) in kept.enumerated() {
            for (field, schema) in [("query", task.inputSchema), ("answer", task.outputSchema)] {
                guard let value = pair[field] else {
                    return .failure(ValidationFailure("pair \(index + 1) has no \(field)"))
                }
                if let schema {
                    let violations = JSONSchemaValidator.violations(of: value, against: schema)
                    if !violations.isEmpty {
                        return .failure(
                            ValidationFailure(
                                "the \(field) of pair \(index + 1) does not match the task's schema: "
                                    + violations.joined(separator: "; ")))
                    }
                } else if (value.stringValue ?? "").allSatisfy(\.isWhitespace) {
                    return .failure(ValidationFailure("the \(field) of pair \(index + 1) is empty or not text"))
                }
            }
        }
        return .success(kept)
    }
}

extension QnaStage: OneProviderUnitStage {
    var provider: String { settings.provider }
}
