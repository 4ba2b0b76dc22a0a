package import KilnModel
import KilnStore

/// What the units of a model-calling stage would cost, from the stage's own offline path: the very requests a run
/// would send for an item, priced as a run would pay for them. `plan` builds its forecast on it, so an estimate
/// can never drift from what the stages really send.
package struct UnitEstimator: Sendable {
    let pipeline: Pipeline

    package init(pipeline: Pipeline) {
        self.pipeline = pipeline
    }

    /// The estimate of every unit `item` asks of `spec` (outputs: one per model and sample); empty for stages that
    /// call no model for it.
    package func estimates(for spec: StageSpec, item: PipelineItem) async -> [CallEstimate] {
        let mode = CacheMode(useCache: false, offline: true)
        let store = InMemoryCheckpointStore()
        let task = pipeline.task ?? TaskDefinition(instruction: "")
        func services(_ provider: String?) -> StageServices {
            StageServices(
                stageID: spec.id, task: task, provider: provider.flatMap { pipeline.provider(named: $0) }, pool: nil,
                executor: nil, store: store, mode: mode)
        }
        switch spec.settings {
        case .inputs(let settings):
            return await Self.missing(InputsStage(settings: settings, services: services(settings.provider)), item)
        case .outputs(let settings):
            let stage = OutputsStage(
                stageID: spec.id, settings: settings, task: task,
                declared: Dictionary(uniqueKeysWithValues: pipeline.providers.map { ($0.name, $0) }), pool: nil,
                executor: nil, store: store, mode: mode)
            return await Self.missing(stage, item)
        case .judge(let settings):
            return await Self.missing(JudgeStage(settings: settings, services: services(settings.provider)), item)
        default:
            return []
        }
    }

    /// One expansion of a topic tree: at the root (with its seeds) when `root`, else below it.
    package func topicExpansion(_ spec: StageSpec, root: Bool) async -> CallEstimate? {
        guard case .topics(let settings) = spec.settings else { return nil }
        let stage = TopicsStage(
            settings: settings,
            services: StageServices(
                stageID: spec.id, task: pipeline.task ?? TaskDefinition(instruction: ""),
                provider: pipeline.provider(named: settings.provider), pool: nil, executor: nil,
                store: InMemoryCheckpointStore(), mode: CacheMode(useCache: false, offline: true)))
        return await stage.estimateExpansion(path: root ? [] : ["a subtopic"])
    }

    private static func missing<Stage: UnitStage>(_ stage: Stage, _ item: PipelineItem) async -> [CallEstimate] {
        var estimates: [CallEstimate] = []
        for unit in stage.units(for: item) {
            if case .missing(let estimate) = await stage.run(unit) { estimates.append(estimate) }
        }
        return estimates
    }
}
