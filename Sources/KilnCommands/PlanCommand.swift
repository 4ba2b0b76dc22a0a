import ArgumentParser
import Foundation
import KilnBasics
import KilnModel
import KilnRunner
import KilnStages

/// `kiln-pipe plan FILE`: what a run would do and cost, without calling any provider.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Forecast per stage the units, the calls a run would make, their tokens and their cost.",
        discussion: """
            Makes no provider call and writes nothing. Counts come from the pipeline (rows of its files, the topic \
            tree's depth × breadth, per_topic, models × samples, calls per item) and, where the store has the last \
            run of a stage with these settings and this data, from that run: its finished units are served from \
            the store, its failed ones are called again. Tokens are estimated from the very prompts a run would \
            send (about 4 characters per token) and, once a stage has run, from what its answers really were; \
            costs are a low–high range.
            """)

    @Argument(help: "The pipeline file.", completion: .file(extensions: ["yml", "yaml"]))
    var file: String

    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var stateOptions: StateOptions

    @Flag(help: "Print one JSON document instead of the table.")
    var json = false

    func run() async throws {
        let pipeline = try LoadedPipeline.load(file, options: pipelineOptions)
        let statePath = LoadedPipeline.statePath(for: pipeline, override: stateOptions.state)
        let forecasts = try await LoadedPipeline.withExistingStore(statePath) { store in
            try await Forecaster(pipeline: pipeline, fakeModel: FakeModel()).forecast(store: store)
        }
        let total = forecasts.reduce(Estimate<Double>.zero) { $0 + $1.costUSD }
        if json {
            print(Self.document(forecasts, total: total, budget: pipeline.maxCostUSD).serialized())
            return
        }
        var rows = [["stage", "type", "units", "cached", "new calls", "est. tokens in/out", "est. cost"]]
        for forecast in forecasts {
            rows.append([
                forecast.id, forecast.type.rawValue, forecast.units.map(String.init) ?? "?", String(forecast.cached),
                Self.range(forecast.calls, String.init),
                Self.range(forecast.inputTokens, String.init) + "/" + Self.range(forecast.outputTokens, String.init),
                Self.range(forecast.costUSD) { "$" + ProgressRenderer.money($0) },
            ])
        }
        Table.print(rows)
        for forecast in forecasts {
            for note in forecast.notes { print("\(forecast.id): \(note)") }
        }
        let (low, high) = (ProgressRenderer.money(total.low), ProgressRenderer.money(total.high))
        print(
            "\nestimated cost of the new calls: $\(low)–$\(high)"
                + " (midpoint $\(ProgressRenderer.money((total.low + total.high) / 2)))"
                + (pipeline.maxCostUSD.map { "; budget $\(ProgressRenderer.money($0))" } ?? ""))
        if forecasts.contains(where: { $0.units == nil }) {
            print("stages marked ? are counted once the stages before them have run")
        }
    }

    /// `low` alone when the range is one number, else `low–high`.
    static func range<Value>(_ estimate: Estimate<Value>, _ text: (Value) -> String) -> String {
        estimate.low == estimate.high ? text(estimate.low) : "\(text(estimate.low))–\(text(estimate.high))"
    }

    /// `--json`: the same figures, for machines.
    static func document(_ forecasts: [StageForecast], total: Estimate<Double>, budget: Double?) -> JSONValue {
        func pair<Value>(_ estimate: Estimate<Value>, _ value: (Value) -> JSONValue) -> JSONValue {
            .object(JSONObject([("low", value(estimate.low)), ("high", value(estimate.high))]))
        }
        let stages = forecasts.map { forecast -> JSONValue in
            .object(
                JSONObject([
                    ("id", .string(forecast.id)), ("type", .string(forecast.type.rawValue)),
                    ("units", forecast.units.map(JSONValue.integer) ?? .null),
                    ("items", forecast.items.map(JSONValue.integer) ?? .null), ("cached", .integer(forecast.cached)),
                    ("failed_last_run", .integer(forecast.failedLastRun)),
                    ("calls", pair(forecast.calls, JSONValue.integer)),
                    ("input_tokens", pair(forecast.inputTokens, JSONValue.integer)),
                    ("output_tokens", pair(forecast.outputTokens, JSONValue.integer)),
                    ("cost_usd", pair(forecast.costUSD, JSONValue.double)),
                    ("notes", .array(forecast.notes.map(JSONValue.string))),
                ]))
        }
        return .object(
            JSONObject([
                ("stages", .array(stages)), ("cost_usd", pair(total, JSONValue.double)),
                ("budget_usd", budget.map(JSONValue.double) ?? .null),
            ]))
    }
}
