import ArgumentParser
import Foundation
import KilnModel
import KilnRunner
import KilnStages
import KilnStore

/// `kiln-pipe status FILE`: per stage done / failed / pending, tokens, cost and the last errors.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show per stage what is done, failed and pending, what it cost, and the last errors.")

    @Argument(help: "The pipeline file.", completion: .file(extensions: ["yml", "yaml"]))
    var file: String

    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var stateOptions: StateOptions

    func run() async throws {
        let (_, statePath, plans) = try await LoadedPipeline.planned(
            file, options: pipelineOptions, state: stateOptions)
        let store = try StoreLocation.open(statePath)
        let tallies = Dictionary(uniqueKeysWithValues: try await store.tallies().map { ($0.stage, $0) })
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
            for error in tallies[plan.id]?.recentErrors ?? [] where plan.failed > 0 {
                print("\(plan.id): last error: \(error)")
            }
        }
        try await printBatches(of: store)
        print("\nstate: \(StoreLocation.describe(statePath))")
    }

    /// The newest provider batch submissions, and what to do about those still with their provider.
    private func printBatches(of store: any CheckpointStore) async throws {
        let batches = try await store.recentBatches(limit: 10)
        guard !batches.isEmpty else { return }
        let formatter = ISO8601DateFormatter()
        var rows = [["provider", "batch", "state", "provider status", "requests", "answered", "failed", "saved"]]
        for batch in batches {
            rows.append([
                batch.provider, batch.providerBatchID ?? "(not confirmed)", batch.state.rawValue,
                batch.providerStatus ?? "-",
                String(batch.requests), String(batch.completed), String(batch.failed),
                formatter.string(from: Date(timeIntervalSince1970: batch.createdAt)),
            ])
        }
        print("\nbatches, newest first:")
        Table.print(rows)
        for batch in batches where batch.state == .refused {
            print("\(batch.providerBatchID ?? String(batch.key.prefix(12))): \(batch.note ?? "refused")")
        }
        let open = batches.filter { $0.state == .submitted || $0.state == .submitting }.count
        if open > 0 {
            print(
                "\(open) batch\(open == 1 ? " is" : "es are") still with the provider: `kiln-pipe run \(file)` collects the answers (nothing is submitted twice)"
            )
        }
    }
}
