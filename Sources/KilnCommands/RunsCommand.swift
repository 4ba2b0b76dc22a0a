import ArgumentParser
import Foundation
import KilnBasics
import KilnModel
import KilnReports
import KilnRunner

/// `kiln-pipe runs FILE`: the pipeline's recorded runs, newest first, read from the checkpoint store.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List a pipeline's recorded runs: when, which commit, the verdict, the scores and the cost.",
        discussion: """
            Every `kiln-pipe run` records itself in the checkpoint store (its stages, each judged item's scores, \
            thresholds, cost and the git commit), so history costs no call. Compare two of them with \
            `kiln-pipe compare FILE RUN_A RUN_B`.
            """)

    @Argument(help: "The pipeline file.", completion: .file(extensions: ["yml", "yaml"]))
    var file: String

    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var stateOptions: StateOptions

    @Option(help: "Show at most this many runs (the newest).")
    var limit = 20

    @Flag(help: "Print one JSON document (every recorded run, oldest first) instead of the table.")
    var json = false

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let pipeline = try LoadedPipeline.load(file, options: pipelineOptions)
        let statePath = LoadedPipeline.statePath(for: pipeline, override: stateOptions.state)
        let runs = try await LoadedPipeline.withExistingStore(statePath) { store in
            guard let store else { return [RunRecord]() }
            return try await RunHistory.runs(of: pipeline.name, in: store)
        }
        if json {
            print(JSONValue.object(JSONObject([("runs", .array(runs.map(\.json)))])).serialized())
            return
        }
        guard !runs.isEmpty else {
            print("\(pipeline.name): no run recorded yet (kiln-pipe run \(file) records one)")
            return
        }
        let formatter = ISO8601DateFormatter()
        var rows = [["run", "started", "commit", "verdict", "items", "scores", "cost", "paid"]]
        for run in runs.suffix(limit).reversed() {
            let judged = run.judged.reduce(0) { $0 + Int($1["items"]?.numberValue ?? 0) }
            rows.append([
                run.id, formatter.string(from: Date(timeIntervalSince1970: run.startedAt)),
                run.gitCommit.map { String($0.prefix(7)) } ?? "-", run.verdict, judged > 0 ? String(judged) : "-",
                Self.scores(run), "$" + ProgressRenderer.money(run.cost.costUSD),
                "$" + ProgressRenderer.money(run.paid.costUSD),
            ])
        }
        Table.print(rows)
        if runs.count > limit { print("(\(runs.count - limit) older runs: --limit \(runs.count) shows them)") }
    }

    /// `overall 3.80, polite 50%`: the means of the run's first judge stage and first model, in report order.
    static func scores(_ run: RunRecord) -> String {
        guard let summary = run.judged.first, let models = summary["models"]?.objectValue,
            let (_, scores) = models.first(where: { _ in true })
        else { return "-" }
        let types = summary["score_types"]?.objectValue ?? JSONObject()
        let cells = (scores.objectValue ?? JSONObject()).compactMap { name, stats -> String? in
            let passFail = types[name]?.stringValue.map { $0 != "five_star" } ?? false
            if passFail, let rate = stats["pass_rate"]?.numberValue {
                return "\(name) \(String(format: "%.0f%%", 100 * rate))"
            }
            return stats["mean"]?.numberValue.map { "\(name) \(String(format: "%.2f", $0))" }
        }
        let text = cells.prefix(4).joined(separator: ", ")
        return cells.count > 4 ? text + ", …" : text
    }
}
