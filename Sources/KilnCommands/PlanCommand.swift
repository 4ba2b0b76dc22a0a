import ArgumentParser
import Foundation
import KilnModel
import KilnRunner
import KilnStages

/// `kiln-pipe plan FILE`: what a run would do and cost, without calling any provider.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show per stage how many items are cached and how many calls a run would make, and their cost.",
        discussion: "Makes no provider call. Token counts are estimates (about 4 characters per token).")

    @Argument(help: "The pipeline file.", completion: .file(extensions: ["yml", "yaml"]))
    var file: String

    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var stateOptions: StateOptions

    func run() async throws {
        let (pipeline, _, plans) = try await LoadedPipeline.planned(file, options: pipelineOptions, state: stateOptions)
        var rows = [["stage", "type", "units", "cached", "new calls", "est. tokens in/out", "est. cost"]]
        for plan in plans {
            rows.append([
                plan.id, plan.type.rawValue, plan.units.map(String.init) ?? "?", String(plan.done),
                String(plan.estimatedCalls),
                "\(plan.estimatedInputTokens)/\(plan.estimatedOutputTokens)",
                "$" + ProgressRenderer.money(plan.estimatedCostUSD),
            ])
        }
        Table.print(rows)
        for plan in plans where plan.note != nil { print("\(plan.id): \(plan.note ?? "")") }
        let total = plans.reduce(0) { $0 + $1.estimatedCostUSD }
        print(
            "\nestimated cost of the new calls: $\(ProgressRenderer.money(total))"
                + (pipeline.maxCostUSD.map { " (budget $\(ProgressRenderer.money($0)))" } ?? ""))
    }
}
