import Foundation
import KilnBasics
package import KilnModel
import KilnStages
package import KilnStore

/// A low–high range of a forecast figure.
package struct Estimate<Value: Numeric & Comparable & Sendable>: Sendable {
    package var low: Value
    package var high: Value

    package static var zero: Estimate { Estimate(low: 0, high: 0) }

    package static func + (left: Estimate, right: Estimate) -> Estimate {
        Estimate(low: left.low + right.low, high: left.high + right.high)
    }
}

/// What a run of one stage would do now: its units of work, how many the store already has, and the calls, tokens
/// and cost of the rest — counted from the pipeline's configuration and its sources, refined by what the store
/// knows of the stage's last run. Nothing is run and nothing is written.
package struct StageForecast: Sendable {
    package var id: String
    package var type: StageType
    /// Units of work (rows for load; input × model × sample for outputs); nil when not knowable before running.
    package var units: Int?
    /// Items the stage passes on; nil when not knowable.
    package var items: Int?
    /// Units the store has results for (done in the stage's last run, which had these settings and this data).
    package var cached = 0
    /// Units that failed in the last run: a rerun calls for them again.
    package var failedLastRun = 0
    package var calls = Estimate<Int>.zero
    package var inputTokens = Estimate<Int>.zero
    package var outputTokens = Estimate<Int>.zero
    package var costUSD = Estimate<Double>.zero
    /// What the numbers rest on, when it matters.
    package var notes: [String] = []

    /// Units a run would compute.
    package var newUnits: Int? { units.map { max(0, $0 - cached) } }
}

/// Computes `plan`.
package struct Forecaster: Sendable {
    let pipeline: Pipeline
    let baseDirectory: String

    package init(pipeline: Pipeline) {
        self.pipeline = pipeline
        baseDirectory = URL(fileURLWithPath: pipeline.sourcePath).deletingLastPathComponent().path
    }

    /// One item flowing into a stage, with sizes to price its requests by.
    private struct Flow {
        var items: Int?
        var samples: [PipelineItem]
    }

    /// The forecast of every stage, in pipeline order; `store` is nil before the first run.
    package func forecast(store: (any CheckpointStore)?) async throws -> [StageForecast] {
        var ledger: [String: StageLedgerEntry] = [:]
        if let store { ledger = try await StageLedger.read(pipeline, from: store) }
        let fingerprints = StageLedger.fingerprints(of: pipeline, baseDirectory: baseDirectory)
        let estimator = UnitEstimator(pipeline: pipeline)
        var flows: [String: Flow] = [:]
        var forecasts: [String: StageForecast] = [:]
        for stage in Self.topologicalOrder(pipeline) {
            let entry = ledger[stage.id].flatMap { $0.fingerprint == fingerprints[stage.id] ? $0 : nil }
            let inputs = stage.from.compactMap { flows[$0] }
            let upstream = Flow(
                items: inputs.allSatisfy { $0.items != nil } ? inputs.reduce(0) { $0 + ($1.items ?? 0) } : nil,
                samples: inputs.flatMap(\.samples))
            var forecast = StageForecast(id: stage.id, type: stage.type)
            var flow = Flow(items: upstream.items, samples: upstream.samples)
            try await count(stage, upstream: upstream, into: &forecast, flow: &flow)
            // The last run of these very settings on this very data knows the counts exactly.
            if let entry, entry.stoppedBy == nil {
                forecast.units = entry.done + entry.failed + entry.pending
                forecast.items = entry.items
                flow.items = entry.items
            }
            if let entry {
                forecast.cached = entry.done
                forecast.failedLastRun = entry.failed
                if entry.failed > 0 {
                    forecast.notes.append("\(entry.failed) units failed last time: a run retries them")
                }
                if entry.stoppedBy != nil {
                    forecast.notes.append("the last run stopped before this stage had all its input")
                }
            } else if ledger[stage.id] != nil {
                forecast.notes.append(
                    "changed since its last run: units the change leaves alone are served from the store, so this may "
                        + "be high")
            }
            await price(stage, upstream: upstream, ledger: entry, estimator: estimator, into: &forecast)
            flows[stage.id] = flow
            forecasts[stage.id] = forecast
        }
        return pipeline.stages.compactMap { forecasts[$0.id] }
    }

    /// Units and items from the configuration and the sources.
    private func count(
        _ stage: StageSpec, upstream: Flow, into forecast: inout StageForecast, flow: inout Flow
    ) async throws {
        switch stage.settings {
        case .load:
            let source = try await SourceSample.load(stage, pipeline: pipeline, baseDirectory: baseDirectory)
            forecast.units = source?.count
            forecast.items = source?.count
            flow = Flow(items: source?.count, samples: source?.samples ?? [])
            if let skipped = source?.skipped, skipped > 0 {
                forecast.notes.append("\(skipped) bad rows will be skipped")
            }
        case .topics(let settings):
            let tree = Self.tree(settings)
            forecast.units = tree.expansions
            forecast.items = tree.items
            let topics = (0..<min(tree.items, 4)).map { index in
                PipelineItem(
                    id: "topic-\(index)",
                    fields: JSONObject([
                        ("root", .string(settings.root ?? pipeline.task?.instruction ?? "")),
                        ("topic_path", .array(Array(repeating: .string("A typical subtopic"), count: settings.depth))),
                    ]))
            }
            flow = Flow(items: tree.items, samples: topics)
        case .inputs(let settings):
            forecast.units = upstream.items
            forecast.items = upstream.items.map { $0 * settings.perTopic }
            // Generated inputs: about as long as a typical answer's share of the call's output.
            let length = CallEstimate.assumedOutputTokens * 4 / max(1, settings.perTopic) / 2
            flow = Flow(items: forecast.items, samples: [Self.synthetic(input: length)])
        case .outputs(let settings):
            let perItem = settings.models.count * settings.samples
            forecast.units = upstream.items.map { $0 * perItem }
            forecast.items = forecast.units
            flow = Flow(
                items: forecast.items,
                samples: (upstream.samples.isEmpty ? [Self.synthetic(input: 200)] : upstream.samples).prefix(8).map {
                    var item = $0
                    item.fields["output"] = .string(String(repeating: "word ", count: 60))
                    item.fields["model"] = .string(settings.models.first ?? "")
                    return item
                })
        case .judge, .split, .export:
            forecast.units = upstream.items
            forecast.items = upstream.items
        case .ingest:
            let documents = SourceSample.documents(stage, baseDirectory: baseDirectory)
            forecast.units = documents?.count
            forecast.items = nil
            forecast.notes.append("chunks are known once the documents are read")
            flow = Flow(items: nil, samples: [])
        case .index(let settings):
            forecast.units = upstream.items
            forecast.items = upstream.items
            if upstream.items == nil, settings.embeddings != nil {
                forecast.notes.append("embedding calls are known once the documents are chunked")
            }
        }
    }

    /// Calls, tokens and cost of the units a run would compute.
    private func price(
        _ stage: StageSpec, upstream: Flow, ledger entry: StageLedgerEntry?, estimator: UnitEstimator,
        into forecast: inout StageForecast
    ) async {
        guard let newUnits = forecast.newUnits, newUnits > 0 else { return }
        var perUnit: CallEstimate?
        switch stage.settings {
        case .topics:
            // An expansion below the root stands for every expansion.
            perUnit = await estimator.topicExpansion(stage, root: false)
        case .inputs, .outputs, .judge:
            let samples =
                upstream.samples.isEmpty ? [Self.synthetic(input: 200)] : Array(upstream.samples.prefix(8))
            var total = CallEstimate(calls: 0, inputTokens: 0, outputTokens: 0, costUSD: 0)
            var units = 0
            for sample in samples {
                for estimate in await estimator.estimates(for: stage, item: sample) {
                    total.calls += estimate.calls
                    total.inputTokens += estimate.inputTokens
                    total.outputTokens += estimate.outputTokens
                    total.costUSD += estimate.costUSD
                    total.maxOutputTokens += estimate.maxOutputTokens
                    total.maxCostUSD += estimate.maxCostUSD
                    total.inputCostUSD += estimate.inputCostUSD
                    units += 1
                }
            }
            guard units > 0 else { return }
            perUnit = CallEstimate(
                calls: total.calls / units, inputTokens: total.inputTokens / units,
                outputTokens: total.outputTokens / units, costUSD: total.costUSD / Double(units),
                maxOutputTokens: total.maxOutputTokens / units, maxCostUSD: total.maxCostUSD / Double(units),
                inputCostUSD: total.inputCostUSD / Double(units))
        case .index(let settings):
            guard let embeddings = settings.embeddings, let chunks = forecast.newUnits else { return }
            let provider = pipeline.provider(named: embeddings.provider)
            let calls = (chunks + embeddings.batchSize - 1) / max(1, embeddings.batchSize)
            let tokens = chunks * 120
            let cost = Double(tokens) * (provider?.inputPricePerMillion ?? 0) / 1_000_000
            forecast.calls = Estimate(low: calls, high: calls)
            forecast.inputTokens = Estimate(low: tokens / 2, high: tokens * 2)
            forecast.costUSD = Estimate(low: cost / 2, high: cost * 2)
            forecast.notes.append("embedding tokens estimated at ~120 a chunk")
            return
        default:
            return
        }
        guard let perUnit, perUnit.calls > 0 else { return }
        let calls = newUnits * perUnit.calls
        forecast.calls = Estimate(low: calls, high: calls)
        forecast.inputTokens = Estimate(low: newUnits * perUnit.inputTokens, high: newUnits * perUnit.inputTokens)
        let inputCost = perUnit.inputCostUSD
        if let entry, entry.done > 0, entry.usage.outputTokens > 0 {
            // Observed: what this stage's answers really cost per unit last time.
            let observed = Double(entry.usage.outputTokens) / Double(entry.done)
            let observedInput = Double(entry.usage.inputTokens) / Double(entry.done)
            let observedCost = entry.usage.costUSD / Double(entry.done)
            forecast.inputTokens = Estimate(
                low: Int(observedInput * 0.9 * Double(newUnits)), high: Int(observedInput * 1.1 * Double(newUnits)))
            forecast.outputTokens = Estimate(
                low: Int(observed * 0.8 * Double(newUnits)), high: Int(observed * 1.25 * Double(newUnits)))
            forecast.costUSD = Estimate(
                low: observedCost * 0.8 * Double(newUnits), high: observedCost * 1.25 * Double(newUnits))
            forecast.notes.append("tokens and cost from what its units cost in the last run")
        } else {
            forecast.notes.append("output tokens are a guess until the stage has run once")
            // Unseen: answers of any length from none up to twice the typical one (or what max_tokens allows).
            let typical = perUnit.outputTokens
            let low = 0
            let high = max(typical, min(perUnit.maxOutputTokens, typical * 2))
            forecast.outputTokens = Estimate(low: newUnits * low, high: newUnits * high)
            let perToken = perUnit.outputTokens > 0 ? (perUnit.costUSD - inputCost) / Double(perUnit.outputTokens) : 0
            forecast.costUSD = Estimate(
                low: Double(newUnits) * (inputCost + perToken * Double(low)),
                high: Double(newUnits) * (inputCost + perToken * Double(high)))
        }
    }

    /// A topic tree's expansions (one call each) and the items it yields.
    static func tree(_ settings: TopicsSettings) -> (expansions: Int, items: Int) {
        var levelNodes = 1
        var expansions = 0
        var items = 0
        for level in 0..<settings.depth {
            // The root expands unless its seeds already fill its breadth.
            if level > 0 || settings.seedTopics.count < settings.breadth { expansions += levelNodes }
            levelNodes *= settings.breadth
            if settings.emit == .all || level + 1 == settings.depth { items += levelNodes }
        }
        return (expansions, items)
    }

    /// An item whose input is about `characters` long.
    static func synthetic(input characters: Int) -> PipelineItem {
        PipelineItem(
            id: "typical",
            fields: JSONObject([("input", .string(String(repeating: "word ", count: max(1, characters / 5))))]))
    }

    /// Stages after the stages they read from.
    static func topologicalOrder(_ pipeline: Pipeline) -> [StageSpec] {
        var ordered: [StageSpec] = []
        var placed: Set<String> = []
        func place(_ stage: StageSpec) {
            guard placed.insert(stage.id).inserted else { return }
            for source in stage.from { if let upstream = pipeline.stage(withID: source) { place(upstream) } }
            ordered.append(stage)
        }
        for stage in pipeline.stages { place(stage) }
        return ordered
    }
}
