import Foundation
import KilnBasics
package import KilnModel
import KilnProviders
import KilnStore

/// The scores a judge stage gives, in report order: overall, the rubric, the assertions.
package enum JudgeScores {
    package static func names(of settings: JudgeSettings, task: TaskDefinition?) -> [(name: String, type: ScoreType)] {
        let rubric = settings.rubric.isEmpty ? (task?.requirements ?? []) : settings.rubric
        return (settings.provider == nil ? [] : [("overall", settings.score)] + rubric.map { ($0.name, $0.type) })
            + settings.assertions.map { ($0.name, .passFail) }
    }
}

/// `judge`: scores each output with deterministic assertions and, when a provider is set, an LLM judge
/// (`llm_as_judge`, or `g_eval` weighting the score tokens by their probabilities). An unparsable verdict is
/// retried, then the item fails; it is never scored 0.
struct JudgeStage: UnitStage {
    let settings: JudgeSettings
    let services: StageServices
    let rubric: [TaskRequirement]
    let fingerprint: String
    /// The embeddings of `similar` assertions, by assertion name (none when only planning).
    var embedders: [String: EmbeddingClient] = [:]

    init(settings: JudgeSettings, services: StageServices) {
        self.settings = settings
        self.services = services
        rubric = settings.rubric.isEmpty ? services.task.requirements : settings.rubric
        fingerprint = services.fingerprint(
            type: .judge, promptVersion: JudgePrompts.version,
            extra: [
                ("method", .string(settings.method.rawValue)), ("score", .string(settings.score.rawValue)),
                ("chain_of_thought", .bool(settings.chainOfThought)),
                ("rubric", .array(rubric.map { .string("\($0.name)|\($0.type.rawValue)|\($0.instruction)") })),
            ])
    }

    var filteredField: String { "output" }
    var filters: QualityFilters { QualityFilters() }

    func units(for item: PipelineItem) -> [PipelineItem] { [item] }

    func cacheKeys(for item: PipelineItem) -> [String] {
        settings.provider == nil ? [] : [key(for: Self.texts(of: item))]
    }

    /// What the judge reads of an item, as text: an agent's tool use too.
    private static func texts(of item: PipelineItem) -> JudgedTexts {
        let text = { (name: String) in item.fields[name].map { $0.stringValue ?? $0.serialized() } }
        return JudgedTexts(
            input: text("input") ?? "", output: text("output") ?? "", expected: text("expected"),
            toolUse: JudgePrompts.toolUse(of: item.fields["trace"]), rubric: item.fields["rubric"]?.stringValue)
    }

    /// What the LLM judge reads of an item.
    struct JudgedTexts {
        var input: String
        var output: String
        var expected: String?
        /// An agent's tool calls and their results.
        var toolUse: String?
        /// The row's own criteria (`rubric` in the data).
        var rubric: String?
    }

    /// The content address of one verdict: the judge's fingerprint and what it reads.
    private func key(for read: JudgedTexts) -> String {
        var components = JSONObject([
            ("stage", .string(fingerprint)), ("input", .string(read.input)), ("output", .string(read.output)),
            ("expected", read.expected.map(JSONValue.string) ?? .null),
        ])
        // The tool use the judge reads is part of what it judges (an item without tools keeps its key).
        if let toolUse = read.toolUse { components["tool_use"] = .string(toolUse) }
        if let rubric = read.rubric { components["row_rubric"] = .string(rubric) }
        return CheckpointKey.make(components)
    }

    func run(_ item: PipelineItem) async -> UnitResult {
        var judged = item
        var scores = JSONObject()
        var failures = JSONObject()
        // The stage's assertions, then the row's own (`assert` in the data).
        let rowAssertions = RowAssertions.assertions(item.fields["assert"]?.arrayValue ?? [])
        for assertion in settings.assertions + rowAssertions where assertion.kind != .similar {
            let outcome = AssertionCheck.evaluate(assertion, item: item, taskSchema: services.task.outputSchema)
            scores[assertion.name] = outcome.score.map(JSONValue.double) ?? .integer(outcome.passed ? 1 : 0)
            if let reason = outcome.reason { failures[assertion.name] = .string(reason) }
        }
        var usage = Usage()
        var requests = 0
        var similarities = JSONObject()
        for assertion in settings.assertions where assertion.kind == .similar {
            guard let embedder = embedders[assertion.name] else { continue }
            switch await SimilarityCheck.measure(assertion, item: item, embedder: embedder) {
            case .measured(let similarity, let outcome, let callUsage, let callRequests):
                usage += callUsage
                requests += callRequests
                scores[assertion.name] = .integer(outcome.passed ? 1 : 0)
                if let similarity { similarities[assertion.name] = .double(similarity) }
                if let reason = outcome.reason { failures[assertion.name] = .string(reason) }
            case .failed(let reason, let callUsage, let callRequests):
                return .failed(
                    "\(assertion.name): \(reason)", usage: usage + callUsage, requests: requests + callRequests)
            case .stopped(let stop):
                return .stopped(stop)
            }
        }
        if !similarities.isEmpty { judged.fields["similarity"] = .object(similarities) }
        var cached = false
        if settings.provider != nil {
            switch await verdict(for: item) {
            case .done(let verdicts, let wasCached, let callUsage, let callRequests):
                cached = wasCached
                usage += callUsage
                requests += callRequests
                for (name, value) in verdicts.first?.fields["scores"]?.objectValue ?? JSONObject() {
                    scores[name] = value
                }
                judged.fields["judge"] = verdicts.first?.fields["judge"]
            case let other:
                return other
            }
        }
        judged.fields["scores"] = .object(scores)
        if !failures.isEmpty { judged.fields["assertion_failures"] = .object(failures) }
        return .done([judged], cached: cached, usage: usage, requests: requests)
    }

    /// The LLM verdict on one output: scores by name and the judge's reasoning, checkpointed.
    private func verdict(for item: PipelineItem) async -> UnitResult {
        let read = Self.texts(of: item)
        let (input, output, expected) = (read.input, read.output, read.expected)
        let key = key(for: read)
        let record = services.mode.useCache ? (try? await services.store.records(forKeys: [key]))?[key] : nil
        if let record, record.status == .done, let items = record.item.flatMap(PipelineItem.decode) {
            return .done(items, cached: true, usage: record.usage, requests: 0)
        }
        let request = ChatRequest(
            messages: [
                .system(JudgePrompts.system),
                .user(
                    JudgePrompts.user(
                        task: services.task, rubric: rubric, overall: settings.score, input: input, output: output,
                        expected: expected, chainOfThought: settings.chainOfThought,
                        toolUse: read.toolUse, rowRubric: read.rubric)),
            ],
            params: ModelParams(temperature: services.provider?.params.temperature ?? 0),
            structured: StructuredOutputSpec(
                name: "judgement",
                schema: JudgePrompts.schema(
                    rubric: rubric, overall: settings.score, chainOfThought: settings.chainOfThought)),
            topLogprobs: settings.method == .gEval ? 10 : nil)
        if services.mode.offline {
            return services.offlineResult(record: record, requests: [request], place: "\(item.id): ")
        }
        guard let executor = services.executor, let name = settings.provider, let entry = services.pool?[name] else {
            return .failed("judge provider '\(settings.provider ?? "")' is not available", usage: Usage(), requests: 0)
        }
        let names = [("overall", settings.score)] + rubric.map { ($0.name, $0.type) }
        let method = settings.method
        do {
            switch try await executor.execute(
                request, on: entry, fresh: !services.mode.useCache,
                validate: { Self.parse($0.choices[0], names: names, method: method) })
            {
            case .succeeded(var verdict, _, let call, let attempts, let usage, let latency):
                // The verdict's cost travels with it, so reports add up what the results cost, not what a run paid.
                var judge = verdict["judge"]?.objectValue ?? JSONObject()
                judge["provider"] = .string(name)
                judge["input_tokens"] = .integer(usage.inputTokens)
                judge["output_tokens"] = .integer(usage.outputTokens)
                judge["cost_usd"] = .double(usage.costUSD)
                verdict["judge"] = .object(judge)
                let result = PipelineItem(id: item.id, fields: verdict)
                try await services.store.checkpoint(
                    CheckpointRecord(
                        key: key, stage: services.stageID, status: .done, item: PipelineItem.encode([result]),
                        usage: usage,
                        latencyMS: latency, attempts: attempts, calls: [call]))
                return .done([result], cached: false, usage: usage, requests: attempts)
            case .failed(let reason, let attempts, let usage):
                try? await services.store.write([
                    CheckpointRecord(
                        key: key, stage: services.stageID, status: .failed, error: reason, usage: usage,
                        attempts: attempts)
                ])
                return .failed("\(item.id): judge: \(reason)", usage: usage, requests: attempts)
            }
        } catch {
            return .stopped(error)
        }
    }

    /// Reads a verdict: every score present and on its scale; g_eval replaces each by its probability-weighted
    /// value where the logprobs allow, and says when it could not.
    static func parse(
        _ choice: ChatChoice, names: [(String, ScoreType)], method: JudgeMethod
    )
        -> Result<JSONObject, ValidationFailure>
    {
        guard let object = AnswerValidation.extractJSON(from: choice.text) else {
            return .failure(
                ValidationFailure(
                    AnswerValidation.notJSON("the verdict", text: choice.text, finishReason: choice.finishReason)))
        }
        var scores = JSONObject()
        var fellBack: [String] = []
        for (name, type) in names {
            guard let written = object[name], let value = JudgePrompts.value(of: written, type: type) else {
                return .failure(
                    ValidationFailure("no valid '\(name)' score (\(JudgePrompts.scale(of: type))) in the verdict"))
            }
            if method == .gEval {
                if let weighted = GEval.score(for: name, type: type, in: choice) {
                    scores[name] = .double(weighted)
                    continue
                }
                fellBack.append(name)
            }
            scores[name] = value == value.rounded() ? .integer(Int(value)) : .double(value)
        }
        var judge = JSONObject([("method", .string(method.rawValue))])
        if let reasoning = object["reasoning"]?.stringValue { judge["reasoning"] = .string(reasoning) }
        if !fellBack.isEmpty {
            judge["note"] = .string(
                "g_eval fell back to the written score for \(fellBack.joined(separator: ", ")): no usable logprobs")
        }
        return .success(JSONObject([("scores", .object(scores)), ("judge", .object(judge))]))
    }
}

extension JudgeStage: Stage {
    /// Judges every item, then checks the thresholds over the scores (after the shards, in a sharded run).
    func run(
        _ run: StageRun, report: inout StageReport, emit: (PipelineItem) async throws -> Void
    ) async throws
        -> RunStop?
    {
        let entry = settings.provider.flatMap { run.shared.pool[$0] }
        var board = ScoreBoard()
        let stop = try await runUnits(
            concurrency: entry?.unitConcurrency ?? 16, loop: entry?.executor, in: run, report: &report,
            emit: { item in
                board.record(item)
                try await emit(item)
            })
        if let shard = run.options.shard {
            // One shard's scores say nothing about the whole: the gate is decided after the shards.
            if !settings.thresholds.isEmpty { report.note("shard \(shard): thresholds are checked by --after-shards") }
        } else {
            report.thresholds = board.evaluate(settings.thresholds, stage: run.id)
        }
        report.maxErrorRate = settings.maxErrorRate
        return stop
    }
}
