import ArgumentParser
import Foundation
import KilnModel
import KilnRunner
import KilnStore

/// `kiln-pipe status FILE`: per stage done / failed / pending, tokens, cost and the last errors.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show per stage what is done, failed and pending, what it cost, and the last errors.")

    @Argument(help: "The pipeline file.", completion: .file(extensions: ["yml", "yaml"]))
    var file: String

    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var stateOptions: StateOptions

    func run() async throws {
        let (_, statePath, plans) = try await LoadedPipeline.planned(file, options: pipelineOptions, state: stateOptions)
        let tallies = Dictionary(uniqueKeysWithValues: try await StoreLocation.open(statePath).tallies().map { ($0.stage, $0) })
        var rows = [["stage", "type", "done", "failed", "pending", "tokens in/out", "cost"]]
        for plan in plans {
            let usage = tallies[plan.id]?.usage ?? Usage()
            rows.append([
                plan.id, plan.type.rawValue, String(plan.done), String(plan.failed),
                plan.units.map { String(max(0, $0 - plan.done - plan.failed)) } ?? "?",
                "\(usage.inputTokens)/\(usage.outputTokens)", "$" + ProgressRenderer.money(usage.costUSD),
            ])
        }
        Table.print(rows)
        for plan in plans {
            for error in tallies[plan.id]?.recentErrors ?? [] where plan.failed > 0 { print("\(plan.id): last error: \(error)") }
        }
        print("\nstate: \(StoreLocation.describe(statePath))")
    }
}
