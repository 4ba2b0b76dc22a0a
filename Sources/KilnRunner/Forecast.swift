import Foundation
import KilnBasics
package import KilnModel
import KilnScheduler
package import KilnStages
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

    /// Serves `kind: fake` providers without a base_url in process, so their stages are measured, not guessed.
    let fakeModel: (any FakeModelHost)?

    package init(pipeline: Pipeline, fakeModel: (any FakeModelHost)? = nil) {
        self.pipeline = pipeline
        self.fakeModel = fakeModel
        baseDirectory = URL(fileURLWithPath: pipeline.sourcePath).deletingLastPathComponent().path
    }

    /// One item flowing into a stage, with sizes to price its requests by.
    private struct Flow {
        var items: Int?
        var samples: [PipelineItem]
    }

    /// The forecast of every stage, in pipeline order; `store` is nil before the first run.
    package func forecast(store: (any CheckpointStore)?) async throws -> [StageForecast] {
        let trialProviders = UnitEstimator.trialProviders(of: pipeline)
        guard let fakeModel, !trialProviders.isEmpty else {
            return try await forecast(store: store, estimator: UnitEstimator(pipeline: pipeline))
        }
        return try await ProviderPool.with(
            pipeline: pipeline, names: trialProviders, environment: [:], concurrencyOverride: nil,
            fakeModel: fakeModel, openPorts: false
        ) { pool in
            let executor = CallExecutor(budget: BudgetTracker(limitUSD: nil), stop: StopFlag())
            return try await forecast(
                store: store, estimator: UnitEstimator(pipeline: pipeline, trial: (pool, executor)))
        }
    }

    private func forecast(store: (any CheckpointStore)?, estimator: UnitEstimator) async throws -> [StageForecast] {
        var ledger: [String: StageLedgerEntry] = [:]
        if let store { ledger = try await StageLedger.read(pipeline, from: store) }
        let fingerprints = StageLedger.fingerprints(of: pipeline, baseDirectory: baseDirectory)
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
            let produced = await price(
                stage, upstream: upstream, ledger: entry, estimator: estimator, into: &forecast)
            // A measured stage's real answers are better samples for the stages after it than typical ones.
            if !produced.isEmpty { flow.samples = Array(produced.prefix(8)) }
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
            let perItem = settings.unitsPerInput
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
        case .qna(let settings):
            forecast.units = upstream.items
            forecast.items = upstream.items.map { $0 * settings.perChunk }
            let question = PipelineItem(
                id: "question",
                fields: JSONObject([
                    ("input", .string(String(repeating: "word ", count: 12))),
                    ("expected", .string(String(repeating: "word ", count: 30))),
                ]))
            flow = Flow(items: forecast.items, samples: [question])
        case .judge, .split, .export:
            forecast.units = upstream.items
            forecast.items = upstream.items
        case .ingest:
            let documents = await SourceSample.documents(stage, baseDirectory: baseDirectory)
            forecast.units = documents?.count
            forecast.items = documents?.chunks
            if let documents, documents.chunks != nil, documents.samples.count < documents.count {
                forecast.notes.append("chunks counted from a sample of the documents, in proportion to their size")
            }
            flow = Flow(items: documents?.chunks, samples: documents?.samples ?? [])
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
    ) async -> [PipelineItem] {
        var produced: [PipelineItem] = []
        guard let newUnits = forecast.newUnits, newUnits > 0 else { return produced }
        var perUnit: CallEstimate?
        switch stage.settings {
        case .topics:
            // An expansion below the root stands for every expansion.
            perUnit = await estimator.topicExpansion(stage, root: false)
        case .inputs, .outputs, .judge, .qna:
            if case .judge(let settings) = stage.settings, settings.assertions.contains(where: { $0.kind == .similar })
            {
                forecast.notes.append(
                    "not counted: the embedding calls of its similar assertions (at most one per new text; each text "
                        + "is embedded once and kept)")
            }
            let samples =
                upstream.samples.isEmpty ? [Self.synthetic(input: 200)] : Array(upstream.samples.prefix(8))
            var total: CallEstimate?
            var units = 0
            for sample in samples {
                let measured = await estimator.units(of: stage, item: sample)
                produced += measured.produced
                for estimate in measured.estimates {
                    total = total.map { $0 + estimate } ?? estimate
                    units += 1
                }
            }
            perUnit = total.map { $0 / units }
        case .index(let settings):
            guard let embeddings = settings.embeddings, let chunks = forecast.newUnits else { return produced }
            let provider = pipeline.provider(named: embeddings.provider)
            let calls = (chunks + embeddings.batchSize - 1) / max(1, embeddings.batchSize)
            let texts = upstream.samples.compactMap { $0.fields["text"]?.stringValue }
            let perChunk: Double
            var spread = (low: 0.5, high: 2.0)
            if let measured = await estimator.embeddingTokens(texts, provider: embeddings.provider) {
                perChunk = measured
                spread = (0.75, 1.3)
                forecast.notes.append("embedding tokens measured on sample chunks with the in-process fake model")
            } else if !texts.isEmpty {
                // About four characters a token, as the providers' tokenizers count English.
                perChunk = Double(texts.reduce(0) { $0 + $1.utf8.count }) / Double(texts.count) / 4
                spread = (0.6, 1.6)
                forecast.notes.append("embedding tokens estimated from sample chunks at ~4 characters a token")
            } else {
                perChunk = 120
                forecast.notes.append("embedding tokens estimated at ~120 a chunk")
            }
            let tokens = Double(chunks) * perChunk
            let cost = tokens * (provider?.inputPricePerMillion ?? 0) / 1_000_000
            forecast.calls = Estimate(low: calls, high: calls)
            forecast.inputTokens = Estimate(low: Int(tokens * spread.low), high: Int(tokens * spread.high))
            forecast.costUSD = Estimate(low: cost * spread.low, high: cost * spread.high)
            return produced
        default:
            return produced
        }
        guard let perUnit, perUnit.calls > 0 else { return produced }
        let calls = newUnits * perUnit.calls
        forecast.calls = Estimate(low: calls, high: calls)
        forecast.inputTokens = Estimate(low: newUnits * perUnit.inputTokens, high: newUnits * perUnit.inputTokens)
        let inputCost = perUnit.inputCostUSD
        if let entry, entry.done > 0, entry.usage.outputTokens > 0 {
            // Observed: what this stage's answers really cost per unit last time.
            let done = Double(entry.done)
            Self.fromAnswers(
                input: Double(entry.usage.inputTokens) / done, output: Double(entry.usage.outputTokens) / done,
                cost: entry.usage.costUSD / done, units: newUnits, spread: (0.8, 1.25), into: &forecast)
            forecast.notes.append("tokens and cost from what its units cost in the last run")
        } else if perUnit.measured {
            // Measured on the in-process fake: exact for the samples; other items' answers vary around them.
            Self.fromAnswers(
                input: Double(perUnit.inputTokens), output: Double(perUnit.outputTokens), cost: perUnit.costUSD,
                units: newUnits, spread: (0.75, 1.3), into: &forecast)
            forecast.notes.append("tokens and cost measured on sample items with the in-process fake model")
        } else {
            forecast.notes.append("output tokens are a guess until the stage has run once")
            if case .outputs(let settings) = stage.settings, !settings.tools.isEmpty {
                forecast.notes.append(
                    "an agent's turns are a guess until it runs: counted as one round of tool calls and the answer "
                        + "per item, and each task it may call run once")
            }
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
        return produced
    }

    /// Ranges around per-unit figures that real answers gave (the last run's, or the fake's on sample items): input
    /// tokens ±10 %, output tokens and cost by `spread`.
    private static func fromAnswers(
        input: Double, output: Double, cost: Double, units: Int, spread: (low: Double, high: Double),
        into forecast: inout StageForecast
    ) {
        let units = Double(units)
        forecast.inputTokens = Estimate(low: Int(input * 0.9 * units), high: Int(input * 1.1 * units))
        forecast.outputTokens = Estimate(low: Int(output * spread.low * units), high: Int(output * spread.high * units))
        forecast.costUSD = Estimate(low: cost * spread.low * units, high: cost * spread.high * units)
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
            for source in stage.from + stage.settings.waitsFor {
                if let upstream = pipeline.stage(withID: source) { place(upstream) }
            }
            ordered.append(stage)
        }
        for stage in pipeline.stages { place(stage) }
        return ordered
    }
}
