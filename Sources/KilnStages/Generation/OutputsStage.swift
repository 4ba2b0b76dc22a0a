import Foundation
import KilnBasics
import KilnExport
import KilnModel
import KilnProviders
import KilnStore

/// `outputs`: runs the task on every input, once per model and sample, with optional chain of thought.
struct OutputsStage: UnitStage {
    let stageID: String
    let settings: OutputsSettings
    let task: TaskDefinition
    /// Provider configs as written in the pipeline (cache keys never depend on a run's ports or overrides).
    let declared: [String: ProviderConfig]
    /// Nil when only planning: no call can be made then.
    let pool: ProviderPool?
    let executor: CallExecutor?
    let store: any CheckpointStore
    let mode: CacheMode
    /// The stage's tools (one set of MCP servers for every item); nil without `tools:`.
    var toolBox: ToolBox? = nil
    /// Index stage id -> what its index holds (`IndexSearcher.fingerprint`), for search tools.
    var indexFingerprints: [String: String] = [:]
    /// Where the stage is written (`p.yml:12:5`), for messages.
    var place = ""

    /// One call (or call pair) to make: an input, a model, a sample number, and the matrix cell's prompt and
    /// parameters when the stage has variants.
    struct Unit: Sendable {
        var item: PipelineItem
        var model: String
        var sample: Int
        var prompt: PromptVariant? = nil
        var params: ParamsVariant? = nil
        /// `prompt/model/params` (the parts the stage varies), when the stage has variants.
        var variant: String? = nil

        /// The cell's fingerprint key: its variant, or its model when the stage has none.
        var cell: String { variant ?? model }
    }

    var filteredField: String { "output" }
    var filters: QualityFilters { settings.filters }

    func units(for item: PipelineItem) -> [Unit] {
        cells.flatMap { cell in
            (0..<settings.samples).map { sample in
                var unit = cell
                unit.item = item
                unit.sample = sample
                return unit
            }
        }
    }

    /// Every cell of the matrix (prompts × models × parameter sets), as a unit without its input.
    private var cells: [Unit] {
        let prompts: [PromptVariant?] = settings.prompts.isEmpty ? [nil] : settings.prompts
        let paramSets: [ParamsVariant?] = settings.params.isEmpty ? [nil] : settings.params
        return prompts.flatMap { prompt in
            settings.models.flatMap { model in
                paramSets.map { params in
                    let name = [prompt?.name, model, params?.name].compactMap { $0 }.joined(separator: "/")
                    return Unit(
                        item: PipelineItem(id: "", fields: JSONObject()), model: model, sample: 0, prompt: prompt,
                        params: params, variant: settings.hasVariants ? name : nil)
                }
            }
        }
    }

    var usesThinking: Bool { settings.thinking ?? (task.thinkingInstruction != nil) }

    func cacheKeys(for unit: Unit) -> [String] { [key(for: unit)] }

    /// The content address of a unit: everything that can change its answer, nothing that cannot.
    func key(for unit: Unit) -> String {
        var components = JSONObject()
        components["stage"] = .string(fingerprints[unit.cell] ?? fingerprint(unit))
        components["input"] = unit.item.fields["input"] ?? .null
        components["sample"] = .integer(unit.sample)
        return CheckpointKey.make(components)
    }

    /// What every unit of one cell shares (prompts, schema, model and parameters), hashed once per stage.
    private(set) var fingerprints: [String: String] = [:]

    init(
        stageID: String, settings: OutputsSettings, task: TaskDefinition, declared: [String: ProviderConfig],
        pool: ProviderPool?, executor: CallExecutor?, store: any CheckpointStore, mode: CacheMode,
        toolBox: ToolBox? = nil, indexFingerprints: [String: String] = [:]
    ) {
        self.toolBox = toolBox
        self.indexFingerprints = indexFingerprints
        self.stageID = stageID
        self.settings = settings
        self.task = task
        self.declared = declared
        self.pool = pool
        self.executor = executor
        self.store = store
        self.mode = mode
        var fingerprints: [String: String] = [:]
        for cell in cells { fingerprints[cell.cell] = fingerprint(cell) }
        self.fingerprints = fingerprints
    }

    /// A cell's fingerprint; a cell with the task's prompt and the provider's parameters has the key a stage
    /// without variants has, so adding a matrix around it pays nothing again for it.
    private func fingerprint(_ cell: Unit) -> String {
        var components = JSONObject()
        components["stage_type"] = .string(StageType.outputs.rawValue)
        components["prompt_version"] = .string(TaskPrompt.version)
        components["validator_version"] = .string(AnswerValidation.version)
        components["system"] = .string(systemMessage(for: cell))
        components["thinking"] = usesThinking ? .string(thinkingInstruction) : .null
        components["output_schema"] = task.outputSchema ?? .null
        components["model"] = ModelFingerprint.json(declared[cell.model])
        if let params = cell.params?.params {
            components["params"] = .object(
                JSONObject([
                    ("temperature", params.temperature.map(JSONValue.double) ?? .null),
                    ("max_tokens", params.maxTokens.map(JSONValue.integer) ?? .null),
                    ("top_p", params.topP.map(JSONValue.double) ?? .null),
                    ("seed", params.seed.map(JSONValue.integer) ?? .null),
                ]))
        }
        // Tools change the answer (and add a loop); a stage without them keeps the keys it always had.
        if !settings.tools.isEmpty {
            let tools = ToolFingerprint(declared: declared, indexFingerprints: indexFingerprints)
            for (key, value) in tools.components(of: settings.tools) { components[key] = value }
        }
        return CheckpointKey.make(components)
    }

    private var thinkingInstruction: String { task.thinkingInstruction ?? TaskPrompt.defaultThinkingInstruction }

    /// The cell's system prompt, else the task's own.
    private func systemMessage(for unit: Unit) -> String {
        unit.prompt?.systemPrompt ?? TaskPrompt.systemMessage(for: task)
    }

    /// The parameters a unit's requests carry: its cell's set (over the provider's own) and, for repeated samples,
    /// a seed per sample.
    private func requestParams(for unit: Unit) -> ModelParams {
        var params = unit.params?.params ?? ModelParams()
        if settings.samples > 1 {
            params.seed = (unit.params?.params.seed ?? declared[unit.model]?.params.seed ?? 0) + unit.sample
        }
        return params
    }

    func run(_ unit: Unit) async -> UnitResult {
        let key = key(for: unit)
        let record = mode.useCache ? (try? await store.records(forKeys: [key]))?[key] : nil
        if let record, record.status == .done, let items = record.item.flatMap(PipelineItem.decode) {
            // The answer is the request's (two rows with one input share it, paid once); the item is this row's.
            return .done(items.map { rebound($0, to: unit) }, cached: true, usage: record.usage, requests: 0)
        }
        let system = ChatMessage.system(systemMessage(for: unit))
        let input = TaskPrompt.userMessage(for: unit.item.fields["input"] ?? .null)
        // Repeated samples differ by seed, so each is its own request (and its own cache entry).
        let params = requestParams(for: unit)
        if mode.offline {
            var requests = [
                ChatRequest(
                    messages: [system, .user(input)], params: params,
                    structured: task.outputSchema.map { StructuredOutputSpec(schema: $0) })
            ]
            if usesThinking { requests.append(ChatRequest(messages: [system, .user(input)], params: params)) }
            guard !settings.tools.isEmpty, record?.status != .failed else {
                return .offline(record: record, requests: requests, provider: declared[unit.model], place: "")
            }
            // An agent: its answer is a conversation whose turns are counted as AgentForecast says.
            let thinking = CallEstimate.of(Array(requests.dropFirst()), provider: declared[unit.model])
            return .missing(
                thinking
                    + AgentForecast.estimate(
                        tools: settings.tools, system: system.content, input: input, params: params,
                        structured: requests[0].structured, provider: declared[unit.model], declared: declared))
        }
        guard let executor, let entry = pool?[unit.model] else {
            return .failed("provider '\(unit.model)' is not available", usage: Usage(), requests: 0)
        }
        var usage = Usage()
        var requests = 0
        var calls: [RecordedCall] = []
        var reasoning: String?
        var messages = [system, ChatMessage.user(input)]
        do {
            if usesThinking {
                let thinking = ChatRequest(
                    messages: [
                        system, .user(TaskPrompt.thinkingMessage(input: input, instruction: thinkingInstruction)),
                    ],
                    params: params)
                switch try await executor.execute(
                    thinking, on: entry, fresh: !mode.useCache,
                    validate: { AnswerValidation.validate($0.choices[0].text, schema: nil) })
                {
                case .succeeded(let value, _, let call, let attempts, let callUsage, _):
                    usage += callUsage
                    requests += attempts
                    calls.append(call)
                    reasoning = value.stringValue
                    messages = [
                        system, thinking.messages[1], .assistant(value.stringValue ?? ""),
                        .user(TaskPrompt.finalAnswerRequest),
                    ]
                case .failed(let reason, let attempts, let callUsage):
                    return await fail(
                        key: key, reason: "thinking step: \(reason)", usage: usage + callUsage,
                        requests: requests + attempts)
                }
            }
            let schema = task.outputSchema
            if let toolBox {
                return try await runAgent(
                    toolBox,
                    unit, key: key, messages: messages, params: params, entry: entry, executor: executor,
                    reasoning: reasoning, usage: usage, requests: requests, calls: calls)
            }
            let request = ChatRequest(
                messages: messages, params: params,
                structured: task.outputSchema.map { StructuredOutputSpec(schema: $0) })
            switch try await executor.execute(
                request, on: entry, fresh: !mode.useCache,
                validate: {
                    AnswerValidation.validate(
                        $0.choices[0].text, schema: schema, finishReason: $0.choices[0].finishReason)
                })
            {
            case .succeeded(let value, let response, let call, let attempts, let callUsage, let latency):
                usage += callUsage
                requests += attempts
                calls.append(call)
                let item = outputItem(
                    for: unit, output: value, reasoning: reasoning ?? response.choices[0].reasoning, usage: usage,
                    latencyMS: latency, attempts: requests)
                let record = CheckpointRecord(
                    key: key, stage: stageID, status: .done, item: item.json, usage: usage, latencyMS: latency,
                    attempts: requests, calls: calls)
                try await store.checkpoint(record)
                return .done([item], cached: false, usage: usage, requests: requests)
            case .failed(let reason, let attempts, let callUsage):
                return await fail(key: key, reason: reason, usage: usage + callUsage, requests: requests + attempts)
            }
        } catch {
            return .stopped(error)
        }
    }

    /// The final answer through Kiln's tool loop: the item carries the conversation (`trace`), the tools offered
    /// (`tool_ids`), how many calls were made and failed, and the time spent in each tool.
    private func runAgent(
        _ toolBox: ToolBox, _ unit: Unit, key: String, messages: [ChatMessage], params: ModelParams,
        entry: ProviderPool.Entry,
        executor: CallExecutor, reasoning: String?, usage: Usage, requests: Int, calls: [RecordedCall]
    ) async throws(RunStop) -> UnitResult {
        let loop = ToolLoop(
            tools: toolBox, maxToolCalls: settings.tools.maxToolCalls, maxTurns: settings.tools.maxTurns,
            executor: executor,
            entry: entry, store: store, stageID: stageID, fresh: !mode.useCache, place: place)
        let schema = task.outputSchema
        switch try await loop.run(
            messages, params: params, structured: schema.map { StructuredOutputSpec(schema: $0) },
            validateFinal: {
                AnswerValidation.validate($0.choices[0].text, schema: schema, finishReason: $0.choices[0].finishReason)
            })
        {
        case .answered(let conversation):
            let total = usage + conversation.usage
            let attempts = requests + conversation.attempts
            var item = outputItem(
                for: unit, output: conversation.value,
                reasoning: reasoning ?? conversation.response.choices.first?.reasoning, usage: total,
                latencyMS: conversation.latencyMS, attempts: attempts)
            item.fields["trace"] = .array(conversation.trace)
            item.fields["tool_ids"] = .array(conversation.offer.ids.map(JSONValue.string))
            // A server's tools cannot be described from their ids alone: their definitions travel with the item.
            if conversation.offer.needsDefinitions {
                item.fields["tool_definitions"] = .array(conversation.offer.definitions)
            }
            item.fields["tool_calls"] = .integer(conversation.toolCalls)
            item.fields["tool_errors"] = .integer(conversation.toolErrors)
            item.fields["tool_latency_ms"] = .object(
                JSONObject(conversation.toolLatencyMS.sorted { $0.key < $1.key }.map { ($0.key, .integer($0.value)) }))
            if !conversation.retrieved.isEmpty { item.fields["retrieved"] = .array(conversation.retrieved) }
            if !conversation.subTaskRuns.isEmpty { item.fields["sub_task_runs"] = .array(conversation.subTaskRuns) }
            try await store.checkpoint(
                CheckpointRecord(
                    key: key, stage: stageID, status: .done, item: item.json, usage: total,
                    latencyMS: conversation.latencyMS, attempts: attempts, calls: calls + conversation.calls))
            return .done([item], cached: false, usage: total, requests: attempts)
        case .failed(let reason, let attempts, let callUsage):
            return await fail(key: key, reason: reason, usage: usage + callUsage, requests: requests + attempts)
        }
    }

    private func fail(key: String, reason: String, usage: Usage, requests: Int) async -> UnitResult {
        try? await store.write([
            CheckpointRecord(key: key, stage: stageID, status: .failed, error: reason, usage: usage, attempts: requests)
        ])
        return .failed(reason, usage: usage, requests: requests)
    }

    /// The output item, with the provenance a Kiln `TaskRun`'s data source records.
    private func outputItem(
        for unit: Unit, output: JSONValue, reasoning: String?, usage: Usage, latencyMS: Int, attempts: Int
    ) -> PipelineItem {
        var fields = JSONObject()
        fields["output"] = output
        if let reasoning { fields["reasoning"] = .string(reasoning) }
        fields["model"] = .string(unit.model)
        fields["sample"] = .integer(unit.sample)
        let provider = declared[unit.model]
        var provenance = JSONObject()
        provenance["stage"] = .string(stageID)
        provenance["provider"] = .string(unit.model)
        provenance["kind"] = .string(provider?.kind.rawValue ?? "")
        provenance["model"] = .string(provider?.model ?? "")
        // What was sent: the cell's parameters over the provider's.
        let sent = requestParams(for: unit)
        provenance["temperature"] = (sent.temperature ?? provider?.params.temperature).map(JSONValue.double) ?? .null
        provenance["top_p"] = (sent.topP ?? provider?.params.topP).map(JSONValue.double) ?? .null
        provenance["max_tokens"] = (sent.maxTokens ?? provider?.params.maxTokens).map(JSONValue.integer) ?? .null
        provenance["seed"] = (sent.seed ?? provider?.params.seed).map(JSONValue.integer) ?? .null
        if let prompt = unit.prompt {
            provenance["prompt"] = .string(prompt.name)
            if let id = prompt.kilnPromptID { provenance["kiln_prompt_id"] = .string(id) }
        }
        provenance["structured_output"] =
            task.outputSchema == nil ? .null : .string((provider?.structuredOutput ?? .jsonSchema).rawValue)
        provenance["thinking"] = .bool(usesThinking)
        provenance["prompt_version"] = .string(TaskPrompt.version)
        provenance["input_tokens"] = .integer(usage.inputTokens)
        provenance["output_tokens"] = .integer(usage.outputTokens)
        provenance["cost_usd"] = .double(usage.costUSD)
        provenance["latency_ms"] = .integer(latencyMS)
        provenance["requests"] = .integer(attempts)
        fields["provenance"] = .object(provenance)
        return rebound(PipelineItem(id: "", fields: fields), to: unit)
    }

    /// What an agent's answer carries besides the answer.
    static let agentFields = [
        "trace", "tool_ids", "tool_definitions", "tool_calls", "tool_errors", "tool_latency_ms", "retrieved",
    ]

    /// The fields an output item takes from the row it answers.
    static let passthrough = [
        "expected", "tags", "rating", "topic_path", "source_row", "input_source", "source_chunk", "assert", "rubric",
    ]

    /// An answer as the output item of `unit`'s row: its id, input and passed-through fields are the row's, so a
    /// cached answer shared by two rows with one input (an `expected`, tags or a Kiln run each of their own) is
    /// never handed to the second row under the first row's identity.
    private func rebound(_ answer: PipelineItem, to unit: Unit) -> PipelineItem {
        var fields = JSONObject()
        fields["input"] = unit.item.fields["input"] ?? .null
        fields["output"] = answer.fields["output"] ?? .null
        for name in Self.passthrough { fields[name] = unit.item.fields[name] }
        for name in ["reasoning", "model", "sample"] { fields[name] = answer.fields[name] }
        fields["variant"] = unit.variant.map(JSONValue.string)
        fields["source_id"] = .string(unit.item.id)
        fields["provenance"] = answer.fields["provenance"]
        for name in Self.agentFields { fields[name] = answer.fields[name] }
        let cell = unit.variant.map { "\u{1F}\($0)" } ?? ""
        let id = String(SHA256.hex("\(unit.item.id)\u{1F}\(unit.model)\u{1F}\(unit.sample)\(cell)").prefix(16))
        return PipelineItem(id: id, fields: fields)
    }
}

/// How a stage uses the checkpoint store in this run.
package struct CacheMode: Sendable {
    /// False under `--fresh`: recompute and overwrite.
    package var useCache: Bool
    /// `--offline`, or a stage not selected by `--only`: serve from the store, never call.
    package var offline: Bool

    package init(useCache: Bool, offline: Bool) {
        self.useCache = useCache
        self.offline = offline
    }
}

extension OutputsStage: Stage {
    func run(
        _ run: StageRun, report: inout StageReport, emit: (PipelineItem) async throws -> Void
    ) async throws
        -> RunStop?
    {
        let pool = run.shared.pool
        // Several models: the first one's event loop (answers from the others hop over to it).
        return try await runUnits(
            concurrency: settings.models.reduce(0) { $0 + (pool[$1]?.unitConcurrency ?? 1) },
            loop: settings.models.first.flatMap { pool[$0]?.executor }, in: run, report: &report, emit: emit)
    }
}
