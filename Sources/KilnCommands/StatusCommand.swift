import ArgumentParser
import Foundation
import KilnBasics
import KilnModel
import KilnRunner
import KilnStages
import KilnStore

/// `kiln-pipe status FILE`: per stage what the last run left done, failed and pending, what the current results
/// cost, and what failed with its reason — read from the checkpoint store in one query, without replaying anything.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show per stage what is done, failed and pending, what it cost, and what failed and why.",
        discussion: """
            Reads what each stage's last run left in the checkpoint store (one query; nothing is run or written). \
            A stage whose settings, data or upstream stages changed since is shown as changed: `kiln-pipe plan` \
            forecasts what a rerun would do.
            """)

    @Argument(help: "The pipeline file.", completion: .file(extensions: ["yml", "yaml"]))
    var file: String

    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var stateOptions: StateOptions

    @Flag(help: "Print one JSON document instead of the table.")
    var json = false

    typealias ShardProgress = (count: Int, finished: Int, problems: [String])

    /// Failures the text view shows per stage; `--json` lists them all.
    static let shownFailures = 10

    /// One stage's line, as shown.
    struct Line {
        var stage: StageSpec
        /// done, failed, changed, stopped or not run.
        var state: String
        var entry: StageLedgerEntry?
        /// Nil when not knowable without running.
        var pending: Int?
        var note: String?
    }

    func run() async throws {
        let pipeline = try LoadedPipeline.load(file, options: pipelineOptions)
        let statePath = LoadedPipeline.statePath(for: pipeline, override: stateOptions.state)
        let base = LoadedPipeline.directory(of: pipeline).path
        // Everything from the store in one scope: the stage lines, the batches, the shards' progress.
        let (entries, batches, shards) = try await LoadedPipeline.withExistingStore(statePath) { store in
            guard let store else { return ([String: StageLedgerEntry](), [BatchRecord](), ShardProgress?.none) }
            return (
                try await StageLedger.read(pipeline, from: store), try await store.recentBatches(limit: 10),
                try await StageLedger.shardProgress(of: pipeline, baseDirectory: base, in: store)
            )
        }
        let fingerprints = StageLedger.fingerprints(of: pipeline, baseDirectory: base)
        let lines = pipeline.stages.map { stage in
            Self.line(for: stage, entry: entries[stage.id], fingerprint: fingerprints[stage.id])
        }
        if json {
            print(Self.document(lines, batches: batches, state: StoreLocation.describe(statePath)).serialized())
            return
        }
        var rows = [["stage", "type", "state", "done", "failed", "pending", "tokens in/out", "cost", "last run"]]
        var total = Usage()
        let formatter = ISO8601DateFormatter()
        for line in lines {
            let usage = line.entry?.usage ?? Usage()
            total += usage
            let done = line.entry?.done ?? 0
            let failed = line.entry?.failed ?? 0
            let pending = line.pending.map(String.init) ?? "?"
            let tokens = "\(usage.inputTokens)/\(usage.outputTokens)"
            let cost = "$" + ProgressRenderer.money(usage.costUSD)
            let lastRun = line.entry.map { formatter.string(from: Date(timeIntervalSince1970: $0.finishedAt)) } ?? "-"
            rows.append([
                line.stage.id, line.stage.type.rawValue, line.state, String(done), String(failed), pending, tokens,
                cost, lastRun,
            ])
        }
        Table.print(rows)
        print("cost of the current results: $\(ProgressRenderer.money(total.costUSD))")
        let changed = lines.filter { $0.state == "changed" }.map(\.stage.id)
        if !changed.isEmpty {
            print(
                "changed since their last run (settings, data or a stage before them): "
                    + "\(changed.joined(separator: ", ")); a run recomputes what the change affects, and the counts "
                    + "shown are the last run's")
        }
        for line in lines {
            if let note = line.note, line.state != "changed" { print("\(line.stage.id): \(note)") }
            let failures = line.entry?.failures ?? []
            for failure in failures.prefix(Self.shownFailures) { print("\(line.stage.id): failed: \(failure)") }
            if failures.count > Self.shownFailures {
                print(
                    "\(line.stage.id): … and \(failures.count - Self.shownFailures) more: `kiln-pipe status \(file) "
                        + "--json` lists every one")
            }
        }
        if let shards {
            print("\nshards: last run as \(shards.count) shards; \(shards.finished) of \(shards.count) finished")
            for problem in shards.problems.prefix(10) { print("  \(problem)") }
            if shards.finished == shards.count {
                print("  every shard finished: `kiln-pipe run \(file) --after-shards` writes the split and exports")
            }
        }
        printBatches(batches)
        print("\nstate: \(StoreLocation.describe(statePath))")
    }

    /// What to show for a stage, from its last line in the store and its fingerprint now.
    static func line(for stage: StageSpec, entry: StageLedgerEntry?, fingerprint: String?) -> Line {
        guard let entry else {
            return Line(
                stage: stage, state: "not run", entry: nil, pending: nil,
                note: nil)
        }
        if entry.fingerprint != fingerprint {
            return Line(
                stage: stage, state: "changed", entry: entry, pending: nil,
                note: "changed since its last run (its settings, its data or a stage before it): "
                    + "a run recomputes what the change affects; the counts are the last run's")
        }
        if let stop = entry.stoppedBy {
            return Line(
                stage: stage, state: "stopped", entry: entry, pending: nil,
                note: "the last run stopped (\(stop)) before this stage had all its input: a rerun resumes")
        }
        let state = entry.failed > 0 ? "failed" : entry.pending > 0 ? "pending" : "done"
        return Line(stage: stage, state: state, entry: entry, pending: entry.pending, note: nil)
    }

    /// `--json`: the same facts as the table, for machines.
    static func document(_ lines: [Line], batches: [BatchRecord], state: String) -> JSONValue {
        let stages = lines.map { line -> JSONValue in
            let usage = line.entry?.usage ?? Usage()
            return .object(
                JSONObject([
                    ("id", .string(line.stage.id)), ("type", .string(line.stage.type.rawValue)),
                    ("state", .string(line.state)), ("done", .integer(line.entry?.done ?? 0)),
                    ("failed", .integer(line.entry?.failed ?? 0)),
                    ("pending", line.pending.map(JSONValue.integer) ?? .null),
                    ("items", .integer(line.entry?.items ?? 0)), ("input_tokens", .integer(usage.inputTokens)),
                    ("output_tokens", .integer(usage.outputTokens)), ("cost_usd", .double(usage.costUSD)),
                    ("last_run", line.entry.map { .double($0.finishedAt) } ?? .null),
                    ("stopped_by", line.entry?.stoppedBy.map(JSONValue.string) ?? .null),
                    ("note", line.note.map(JSONValue.string) ?? .null),
                    ("errors", .array((line.entry?.failures ?? []).map(JSONValue.string))),
                    ("files", .array((line.entry?.files ?? []).map(JSONValue.string))),
                ]))
        }
        let batchValues = batches.map { batch -> JSONValue in
            .object(
                JSONObject([
                    ("provider", .string(batch.provider)),
                    ("batch", batch.providerBatchID.map(JSONValue.string) ?? .null),
                    ("state", .string(batch.state.rawValue)), ("requests", .integer(batch.requests)),
                    ("answered", .integer(batch.completed)), ("failed", .integer(batch.failed)),
                ]))
        }
        let cost = lines.reduce(0.0) { $0 + ($1.entry?.usage.costUSD ?? 0) }
        return .object(
            JSONObject([
                ("state", .string(state)), ("cost_usd", .double(cost)), ("stages", .array(stages)),
                ("batches", .array(batchValues)),
            ]))
    }

    /// The newest provider batch submissions, and what to do about those still with their provider.
    private func printBatches(_ batches: [BatchRecord]) {
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
            let verb = open == 1 ? " is" : "es are"
            print(
                "\(open) batch\(verb) still with the provider: `kiln-pipe run \(file)` collects the answers "
                    + "(nothing is submitted twice)")
        }
    }
}
