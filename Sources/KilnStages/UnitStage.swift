import KilnBasics
import KilnModel
import KilnProviders
import KilnStore

/// What became of one unit of work: the items it produced (served from the store or computed), or why it failed.
enum UnitResult: Sendable {
    /// `usage` is what the unit cost: paid now, or (cached) when it was computed.
    case done([PipelineItem], cached: Bool, usage: Usage, requests: Int)
    case failed(String, usage: Usage, requests: Int)
    case stopped(RunStop)
    /// Offline, the store has no answer for this unit: it is pending, and would cost about this much.
    case missing(CallEstimate)
}

extension CheckpointStore {
    /// Checkpoints a unit's validated result. A store that cannot be written stops the run: every further call
    /// would be paid for and then lost.
    func checkpoint(_ record: CheckpointRecord) async throws(RunStop) {
        do { try await write([record]) } catch { throw .storeUnwritable("\(error)") }
    }
}

/// What a unit's calls would cost if made now: the requests' input tokens, and their output as typically long
/// (`outputTokens`, at most `assumedOutputTokens` a choice) and as long as `max_tokens` allows (`maxOutputTokens`).
package struct CallEstimate: Sendable {
    /// Output tokens assumed per call when the provider sets no `max_tokens`.
    package static let assumedOutputTokens = 256

    package var calls: Int
    package var inputTokens: Int
    package var outputTokens: Int
    package var costUSD: Double
    /// The most the calls could write and cost: every answer as long as `max_tokens` allows.
    package var maxOutputTokens = 0
    package var maxCostUSD = 0.0
    /// The part of `costUSD` paid for input tokens.
    package var inputCostUSD = 0.0
    /// Tokens and cost come from a real call (to the in-process fake), not from the request's size.
    package var measured = false

    package init(
        calls: Int, inputTokens: Int, outputTokens: Int, costUSD: Double, maxOutputTokens: Int = 0,
        maxCostUSD: Double = 0, inputCostUSD: Double = 0
    ) {
        self.calls = calls
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.costUSD = costUSD
        self.maxOutputTokens = maxOutputTokens
        self.maxCostUSD = maxCostUSD
        self.inputCostUSD = inputCostUSD
    }

    static func of(_ requests: [ChatRequest], provider: ProviderConfig?) -> CallEstimate {
        var estimate = CallEstimate(calls: requests.count, inputTokens: 0, outputTokens: 0, costUSD: 0)
        guard let provider else { return estimate }
        for request in requests {
            let tokens = TokenEstimate.tokens(of: request, provider: provider)
            let output = min(tokens.output, CallEstimate.assumedOutputTokens * max(1, request.choices))
            estimate.inputTokens += tokens.input
            estimate.outputTokens += output
            estimate.maxOutputTokens += tokens.output
            // A provider with `batch: true` is paid at its batch price (the retries that go live are not foreseen).
            let factor = provider.batch?.priceFactor ?? 1
            let input = Double(tokens.input) * (provider.inputPricePerMillion ?? 0)
            estimate.inputCostUSD += factor * input / 1_000_000
            estimate.costUSD += factor * (input + Double(output) * (provider.outputPricePerMillion ?? 0)) / 1_000_000
            estimate.maxCostUSD +=
                factor * (input + Double(tokens.output) * (provider.outputPricePerMillion ?? 0)) / 1_000_000
        }
        return estimate
    }
}

extension CallEstimate {
    /// Two units' calls together (measured only when both were).
    package static func + (left: CallEstimate, right: CallEstimate) -> CallEstimate {
        var sum = CallEstimate(
            calls: left.calls + right.calls, inputTokens: left.inputTokens + right.inputTokens,
            outputTokens: left.outputTokens + right.outputTokens, costUSD: left.costUSD + right.costUSD,
            maxOutputTokens: left.maxOutputTokens + right.maxOutputTokens,
            maxCostUSD: left.maxCostUSD + right.maxCostUSD,
            inputCostUSD: left.inputCostUSD + right.inputCostUSD)
        sum.measured = left.measured && right.measured
        return sum
    }

    /// The mean of `count` units' calls.
    package static func / (total: CallEstimate, count: Int) -> CallEstimate {
        let units = max(1, count)
        var mean = CallEstimate(
            calls: total.calls / units, inputTokens: total.inputTokens / units,
            outputTokens: total.outputTokens / units,
            costUSD: total.costUSD / Double(units), maxOutputTokens: total.maxOutputTokens / units,
            maxCostUSD: total.maxCostUSD / Double(units), inputCostUSD: total.inputCostUSD / Double(units))
        mean.measured = total.measured
        return mean
    }

    /// What a unit cost or would cost: estimated when it was missing offline, measured when it was computed (then
    /// `measured` is set); nil when it called nothing.
    init?(_ result: UnitResult) {
        switch result {
        case .missing(let estimate):
            self = estimate
        case .done(_, cached: false, let usage, let requests) where requests > 0:
            self.init(
                calls: requests, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens,
                costUSD: usage.costUSD,
                maxOutputTokens: usage.outputTokens, maxCostUSD: usage.costUSD)
            measured = true
        default:
            return nil
        }
    }
}

extension UnitResult {
    /// Offline: a failed record reports its reason, an absent one is missing with the cost of `requests`.
    static func offline(
        record: CheckpointRecord?, requests: [ChatRequest], provider: ProviderConfig?, place: String
    )
        -> UnitResult
    {
        if let record, record.status == .failed {
            return .failed("\(place)\(record.error ?? "failed")", usage: Usage(), requests: 0)
        }
        return .missing(.of(requests, provider: provider))
    }
}

extension StageServices {
    /// `UnitResult.offline` with this stage's provider.
    func offlineResult(record: CheckpointRecord?, requests: [ChatRequest], place: String) -> UnitResult {
        .offline(record: record, requests: requests, provider: provider, place: place)
    }
}

/// A unit stage that calls one provider (inputs, qna): its units run with that provider's concurrency, on its
/// event loop.
protocol OneProviderUnitStage: UnitStage, Stage {
    var provider: String { get }
}

extension OneProviderUnitStage {
    func run(
        _ run: StageRun, report: inout StageReport, emit: (PipelineItem) async throws -> Void
    ) async throws
        -> RunStop?
    {
        let entry = run.shared.pool[provider]
        return try await runUnits(
            concurrency: entry?.unitConcurrency ?? 1, loop: entry?.executor, in: run, report: &report, emit: emit)
    }
}

/// A stage that turns each incoming item into units of work run concurrently (outputs, inputs).
protocol UnitStage: Sendable {
    associatedtype Unit: Sendable
    /// The units an incoming item asks for (outputs: one per model and sample; inputs: one per topic).
    func units(for item: PipelineItem) -> [Unit]
    func run(_ unit: Unit) async -> UnitResult
    /// The store keys `run` will look up for `unit`, so the engine can fetch a window's worth in one query.
    func cacheKeys(for unit: Unit) -> [String]
    /// The item field the stage's quality filters look at (`input` for inputs, `output` for outputs).
    var filteredField: String { get }
    var filters: QualityFilters { get }
}

extension PipelineItem {
    /// Several items as one checkpointed value.
    static func encode(_ items: [PipelineItem]) -> JSONValue { .array(items.map(\.json)) }

    /// Items from a checkpointed value (an array, or one item from a single-item stage).
    static func decode(_ value: JSONValue) -> [PipelineItem]? {
        if let array = value.arrayValue {
            let items = array.compactMap(PipelineItem.init(json:))
            return items.count == array.count ? items : nil
        }
        return PipelineItem(json: value).map { [$0] }
    }
}
