import Foundation
import KilnBasics
package import KilnModel
import KilnStore

/// What a run would do, per stage, computed from the inputs and the checkpoint store without calling anyone.
package struct StagePlan: Sendable, Hashable {
    package var id: String
    package var type: StageType
    /// Units of work (items for load; input × model × sample for outputs); nil when not knowable before running.
    package var units: Int?
    package var done = 0
    package var failed = 0
    /// Units that need provider calls.
    package var pending: Int { max(0, (units ?? 0) - done) }
    package var estimatedCalls = 0
    package var estimatedInputTokens = 0
    package var estimatedOutputTokens = 0
    package var estimatedCostUSD = 0.0
    /// Why the numbers are approximate, when they are.
    package var note: String?
}

/// Computes `plan` and the pending counts of `status`.
package struct Planner: Sendable {
    /// Output tokens assumed per call when the provider sets no `max_tokens`.
    package static let assumedOutputTokens = 256

    let pipeline: Pipeline
    let statePath: String

    package init(pipeline: Pipeline, statePath: String) {
        self.pipeline = pipeline
        self.statePath = statePath
    }

    package func plan() async throws -> [StagePlan] {
        let store = try SQLiteCheckpointStore(path: statePath)
        let baseDirectory = URL(fileURLWithPath: pipeline.sourcePath).deletingLastPathComponent().path
        var plans: [StagePlan] = []
        for stage in pipeline.stages {
            var plan = StagePlan(id: stage.id, type: stage.type)
            switch stage.settings {
            case .load(let settings):
                var count = 0
                var skipped = 0
                try await LoadStage(stageID: stage.id, settings: settings, baseDirectory: baseDirectory).read(
                    emit: { _ in count += 1 }, skipped: { _ in skipped += 1 })
                plan.units = count
                plan.done = count
                if skipped > 0 { plan.note = "\(skipped) bad rows will be skipped" }
            case .outputs(let settings):
                guard let task = pipeline.task else { break }
                let sources = stage.from.compactMap { pipeline.stage(withID: $0) }
                guard sources.allSatisfy({ $0.type == .load }) else {
                    plan.note = "inputs come from a stage computed during the run"
                    break
                }
                let outputs = OutputsStage(
                    stageID: stage.id, settings: settings, task: task,
                    declared: Dictionary(uniqueKeysWithValues: pipeline.providers.map { ($0.name, $0) }), pool: nil,
                    executor: nil, store: store, mode: CacheMode(useCache: true, offline: true))
                var units = 0
                for source in sources {
                    guard case .load(let load) = source.settings else { continue }
                    var batch: [OutputsStage.Unit] = []
                    func account(_ batch: [OutputsStage.Unit]) async throws {
                        let keys = batch.map(outputs.key(for:))
                        let records = try await store.records(forKeys: keys)
                        for (unit, key) in zip(batch, keys) {
                            units += 1
                            switch records[key]?.status {
                            case .done: plan.done += 1
                            case .failed:
                                plan.failed += 1
                                estimate(unit, outputs: outputs, into: &plan)
                            case nil: estimate(unit, outputs: outputs, into: &plan)
                            }
                        }
                    }
                    try await LoadStage(stageID: source.id, settings: load, baseDirectory: baseDirectory).read(
                        emit: { item in
                            batch += outputs.units(for: item)
                            if batch.count >= 512 {
                                try await account(batch)
                                batch.removeAll()
                            }
                        }, skipped: { _ in })
                    try await account(batch)
                }
                plan.units = units
            case .topics(let settings):
                guard let task = pipeline.task else { break }
                let topics = TopicsStage(
                    settings: settings,
                    services: StageServices(
                        stageID: stage.id, task: task, provider: pipeline.provider(named: settings.provider), pool: nil,
                        executor: nil, store: store, mode: CacheMode(useCache: true, offline: true)))
                try await planTree(topics, into: &plan, store: store)
            case .inputs:
                plan.note = "inputs come from a stage computed during the run"
            default:
                plan.note = "not run by this version"
            }
            plans.append(plan)
        }
        return plans
    }

    /// Walks the cached part of a topic tree: each node is one expansion call, done when it is in the store.
    private func planTree(_ topics: TopicsStage, into plan: inout StagePlan, store: SQLiteCheckpointStore) async throws {
        let settings = topics.settings
        var frontier = [TopicsStage.Node(path: [], position: [])]
        var expansions = 0
        while let node = frontier.popLast() {
            let existing = node.path.isEmpty ? settings.seedTopics : []
            let count = max(0, settings.breadth - existing.count)
            var children = existing
            if count > 0 {
                expansions += 1
                let key = topics.key(for: node, existing: existing, count: count)
                let record = try await store.records(forKeys: [key])[key]
                switch record?.status {
                case .done: plan.done += 1
                case .failed: plan.failed += 1
                case nil: break
                }
                children += record?.status == .done ? (record?.item?.arrayValue?.compactMap(\.stringValue) ?? []) : []
            }
            guard node.path.count + 1 < settings.depth else { continue }
            if children.count < settings.breadth {
                // Below an expansion not yet made: count the calls its subtree will need.
                let missing = settings.breadth - children.count
                let remainingLevels = settings.depth - node.path.count - 1
                expansions += missing * (0..<remainingLevels).reduce(0) { total, level in total + Self.power(settings.breadth, level) }
            }
            frontier += children.map { TopicsStage.Node(path: node.path + [$0], position: []) }
        }
        plan.units = expansions
        let pending = expansions - plan.done
        if let provider = pipeline.provider(named: settings.provider) {
            let input = 200 * pending
            let output = 20 * settings.breadth * pending
            plan.estimatedCalls = pending
            plan.estimatedInputTokens = input
            plan.estimatedOutputTokens = output
            plan.estimatedCostUSD =
                (Double(input) * (provider.inputPricePerMillion ?? 0) + Double(output) * (provider.outputPricePerMillion ?? 0)) / 1e6
        }
    }

    private static func power(_ base: Int, _ exponent: Int) -> Int { (0..<exponent).reduce(1) { total, _ in total * base } }

    private func estimate(_ unit: OutputsStage.Unit, outputs: OutputsStage, into plan: inout StagePlan) {
        guard let provider = pipeline.provider(named: unit.model) else { return }
        let calls = outputs.usesThinking ? 2 : 1
        let prompt = TaskPrompt.systemMessage(for: outputs.task).count
            + TaskPrompt.userMessage(for: unit.item.fields["input"] ?? .null).count
            + (outputs.task.outputSchema?.serialized().count ?? 0)
        let input = max(1, prompt / 4) * calls
        let output = min(provider.params.maxTokens ?? Self.assumedOutputTokens, Self.assumedOutputTokens) * calls
        plan.estimatedCalls += calls
        plan.estimatedInputTokens += input
        plan.estimatedOutputTokens += output
        plan.estimatedCostUSD +=
            (Double(input) * (provider.inputPricePerMillion ?? 0) + Double(output) * (provider.outputPricePerMillion ?? 0))
            / 1_000_000
    }
}
