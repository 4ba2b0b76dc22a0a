import Foundation
import KilnBasics
package import KilnModel
import KilnStages
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

    let pipeline: Pipeline
    let statePath: String

    package init(pipeline: Pipeline, statePath: String) {
        self.pipeline = pipeline
        self.statePath = statePath
    }

    /// Replays the pipeline offline through the engine: what the store has is done, what it lacks is pending and
    /// estimated from the very requests a run would send. Stages fed by pending work can only show what is known.
    package func plan() async throws -> [StagePlan] {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kiln-pipe-plan-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var options = RunOptions(statePath: statePath, outputDirectory: scratch.path, environment: [:], offline: true)
        options.dryRun = true
        let replay = try await RunEngine(pipeline: pipeline, options: options).run(progress: RunProgress(stages: []))
        let reports = Dictionary(uniqueKeysWithValues: replay.stages.map { ($0.id, $0) })
        let store = try StoreLocation.open(statePath)
        var plans: [StagePlan] = []
        var incomplete: Set<String> = []
        for stage in pipeline.stages {
            var plan = StagePlan(id: stage.id, type: stage.type)
            guard let report = reports[stage.id] else {
                plan.note = "not run by this version"
                plans.append(plan)
                continue
            }
            plan.units = report.cached + report.computed + report.failed + report.pending
            plan.done = report.cached
            plan.failed = report.failed
            plan.estimatedCalls = report.pendingCalls
            plan.estimatedInputTokens = report.pendingUsage.inputTokens
            plan.estimatedOutputTokens = report.pendingUsage.outputTokens
            plan.estimatedCostUSD = report.pendingUsage.costUSD
            if case .topics(let settings) = stage.settings, let task = pipeline.task {
                let topics = TopicsStage(
                    settings: settings,
                    services: StageServices(
                        stageID: stage.id, task: task, provider: pipeline.provider(named: settings.provider), pool: nil,
                        executor: nil, store: store, mode: CacheMode(useCache: true, offline: true)))
                try await planTree(topics, into: &plan, store: store)
            }
            if report.skipped > 0 { plan.note = "\(report.skipped) bad rows will be skipped" }
            if stage.from.contains(where: incomplete.contains) {
                plan.note = "more once the stages before it are computed"
                plan.units = nil
            }
            if report.pending > 0 || plan.note != nil && plan.units == nil { incomplete.insert(stage.id) }
            plans.append(plan)
        }
        return plans
    }

    /// Walks the cached part of a topic tree: each node is one expansion call, done when it is in the store.
    private func planTree(_ topics: TopicsStage, into plan: inout StagePlan, store: any CheckpointStore) async throws {
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
                children += record?.status == .done ? (record?.item?.arrayValue?.compactMap(\.stringValue) ?? []) : []
            }
            guard node.path.count + 1 < settings.depth else { continue }
            if children.count < settings.breadth {
                // Below an expansion not yet made: count the calls its subtree will need.
                let missing = settings.breadth - children.count
                let remainingLevels = settings.depth - node.path.count - 1
                expansions +=
                    missing
                    * (0..<remainingLevels).reduce(0) { total, level in total + Self.power(settings.breadth, level) }
            }
            frontier += children.map { TopicsStage.Node(path: node.path + [$0], position: []) }
        }
        // Expansions below missing ones are not known to the replay: estimate them like the missing ones.
        let known = plan.units ?? 0
        let unseen = max(0, expansions - known)
        let perCall = plan.estimatedCalls > 0 ? Double(plan.estimatedCostUSD) / Double(plan.estimatedCalls) : 0
        let inputPerCall = plan.estimatedCalls > 0 ? plan.estimatedInputTokens / plan.estimatedCalls : 0
        let outputPerCall = plan.estimatedCalls > 0 ? plan.estimatedOutputTokens / plan.estimatedCalls : 0
        plan.units = expansions
        plan.estimatedCalls += unseen
        plan.estimatedInputTokens += unseen * inputPerCall
        plan.estimatedOutputTokens += unseen * outputPerCall
        plan.estimatedCostUSD += Double(unseen) * perCall
    }

    private static func power(_ base: Int, _ exponent: Int) -> Int {
        (0..<exponent).reduce(1) { total, _ in total * base }
    }
}
