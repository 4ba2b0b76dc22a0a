package import KilnModel
import KilnProviders
import KilnStore

/// What the units of a model-calling stage would cost, from the stage's own offline path: the very requests a run
/// would send for an item, priced as a run would pay for them. `plan` builds its forecast on it, so an estimate
/// can never drift from what the stages really send.
///
/// A stage whose models are all kiln-pipe's in-process fake (`kind: fake` without a base_url) is measured instead:
/// its sample units are run for real against the fake, which costs nothing and answers exactly as in a run, so the
/// output tokens are known rather than guessed.
package struct UnitEstimator: Sendable {
    let pipeline: Pipeline
    /// The in-process fake providers and an executor for them, when the pipeline has such providers.
    let trial: (pool: ProviderPool, executor: CallExecutor)?

    package init(pipeline: Pipeline, trial: (pool: ProviderPool, executor: CallExecutor)? = nil) {
        self.pipeline = pipeline
        self.trial = trial
    }

    /// The providers `plan` may measure with free trial calls: `kind: fake` without a base_url.
    package static func trialProviders(of pipeline: Pipeline) -> Set<String> {
        Set(pipeline.providers.filter { $0.kind == .fake && $0.baseURL == nil }.map(\.name))
    }

    /// Whether the units of `spec` are measured (every model it calls is an in-process fake) rather than guessed.
    package func measures(_ spec: StageSpec) -> Bool {
        guard let trial else { return false }
        let providers: [String]
        switch spec.settings {
        case .topics(let settings): providers = [settings.provider]
        case .inputs(let settings): providers = [settings.provider]
        case .qna(let settings): providers = [settings.provider]
        case .outputs(let settings):
            // MCP servers and searches are not started to plan: an agent with them is estimated.
            guard settings.tools.allMCPServers.isEmpty, settings.tools.searchedIndexes.isEmpty else { return false }
            providers = settings.models + settings.tools.allSubTasks.map(\.model)
        case .judge(let settings): providers = settings.provider.map { [$0] } ?? []
        default: return false
        }
        return providers.allSatisfy { trial.pool[$0] != nil }
    }

    /// The estimate of every unit `item` asks of `spec` (outputs: one per model and sample); empty for stages that
    /// call no model for it.
    package func estimates(for spec: StageSpec, item: PipelineItem) async -> [CallEstimate] {
        await units(of: spec, item: item).estimates
    }

    /// The estimate of every unit `item` asks of `spec`, and the items the measured units produced (none when
    /// estimated offline): a measured stage's answers are the samples of the stages after it.
    package func units(
        of spec: StageSpec, item: PipelineItem
    ) async -> (
        estimates: [CallEstimate], produced: [PipelineItem]
    ) {
        let measured = measures(spec)
        let mode = CacheMode(useCache: false, offline: !measured)
        let store = InMemoryCheckpointStore()
        let task = pipeline.task ?? TaskDefinition(instruction: "")
        let (pool, executor) = measured ? (trial?.pool, trial?.executor) : (nil, nil)
        func services(_ provider: String?) -> StageServices {
            StageServices(
                stageID: spec.id, task: task, provider: provider.flatMap { pipeline.provider(named: $0) }, pool: pool,
                executor: executor, store: store, mode: mode)
        }
        switch spec.settings {
        case .inputs(let settings):
            return await Self.run(InputsStage(settings: settings, services: services(settings.provider)), item)
        case .outputs(let settings):
            let declared = Dictionary(uniqueKeysWithValues: pipeline.providers.map { ($0.name, $0) })
            // A measured agent runs its conversation with the built-in tools and the tasks it may call.
            func toolBox(_ tools: ToolSettings) -> ToolBox {
                let fingerprint = ToolFingerprint(declared: declared, indexFingerprints: [:])
                return ToolBox(
                    ids: tools.builtIns,
                    agents: tools.subTasks.map { task in
                        SubAgent(
                            spec: task, tools: toolBox(task.tools), fingerprint: fingerprint.key(of: task),
                            pool: pool, executor: executor, store: store, stageID: spec.id, fresh: true, place: "")
                    })
            }
            let stage = OutputsStage(
                stageID: spec.id, settings: settings, task: task, declared: declared, pool: pool,
                executor: executor, store: store, mode: mode,
                toolBox: measured && !settings.tools.isEmpty ? toolBox(settings.tools) : nil)
            return await Self.run(stage, item)
        case .judge(let settings):
            return await Self.run(JudgeStage(settings: settings, services: services(settings.provider)), item)
        case .qna(let settings):
            return await Self.run(QnaStage(settings: settings, services: services(settings.provider)), item)
        default:
            return ([], [])
        }
    }

    /// One expansion of a topic tree: at the root (with its seeds) when `root`, else below it.
    package func topicExpansion(_ spec: StageSpec, root: Bool) async -> CallEstimate? {
        guard case .topics(let settings) = spec.settings else { return nil }
        let measured = measures(spec)
        let stage = TopicsStage(
            settings: settings,
            services: StageServices(
                stageID: spec.id, task: pipeline.task ?? TaskDefinition(instruction: ""),
                provider: pipeline.provider(named: settings.provider), pool: measured ? trial?.pool : nil,
                executor: measured ? trial?.executor : nil, store: InMemoryCheckpointStore(),
                mode: CacheMode(useCache: false, offline: !measured)))
        return await stage.estimateExpansion(path: root ? [] : ["a subtopic"])
    }

    /// Embedding tokens per text, measured with the in-process fake; nil when `provider` is not one, or the call
    /// failed.
    package func embeddingTokens(_ texts: [String], provider: String) async -> Double? {
        guard !texts.isEmpty, let trial, let entry = trial.pool[provider] else { return nil }
        guard
            case .succeeded(_, let response, _, _, _, _) = try? await trial.executor.embed(texts, model: nil, on: entry)
        else { return nil }
        return Double(response.usage.inputTokens) / Double(texts.count)
    }

    private static func run<Stage: UnitStage>(
        _ stage: Stage, _ item: PipelineItem
    ) async -> (
        estimates: [CallEstimate], produced: [PipelineItem]
    ) {
        var estimates: [CallEstimate] = []
        var produced: [PipelineItem] = []
        for unit in stage.units(for: item) {
            let result = await stage.run(unit)
            if let estimate = CallEstimate(result) { estimates.append(estimate) }
            if case .done(let items, _, _, _) = result { produced += items }
        }
        return (estimates, produced)
    }
}
