import ArgumentParser
import Foundation
import KilnBasics
import KilnModel
import KilnReports
import KilnRunner

/// `kiln-pipe compare FILE [BEFORE] [AFTER]`: what changed between two runs, item by item, from what they kept.
struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two runs of an eval: score changes with confidence intervals, and the items that changed.",
        discussion: """
            Per judge stage, model and score: the mean (and pass rate) before and after, the change and its 95% \
            bootstrap confidence interval (paired when both runs judged the same items); then the items that \
            regressed, improved, appeared or disappeared, with their input, both outputs and both judge reasons. \
            Computed from the run history in the checkpoint store: no call is made. A run is a run id (or its \
            unique start), last, last~N, or a summary.json a judge stage wrote (a committed baseline). Exit codes: \
            0 no regression beyond --fail-on-regression, 1 a regression, 2 bad input.
            """)

    @Argument(help: "The pipeline file.", completion: .file(extensions: ["yml", "yaml"]))
    var file: String

    @Argument(help: "The earlier run (default: the one before the last).")
    var before: String?

    @Argument(help: "The later run (default: the last).")
    var after: String?

    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var regression: RegressionOptions

    @Flag(help: "Print one JSON document instead of text.")
    var json = false

    @Flag(help: "Print Markdown (as for $GITHUB_STEP_SUMMARY) instead of text.")
    var markdown = false

    func validate() throws {
        if json, markdown { throw ValidationError("--json and --markdown are different outputs: choose one") }
    }

    func run() async throws {
        let pipeline = try LoadedPipeline.load(file, options: pipelineOptions)
        let statePath = LoadedPipeline.statePath(for: pipeline, override: stateOptions.state)
        let gate = try regression.gate()
        let comparison = try await LoadedPipeline.withExistingStore(statePath) { store -> RunComparison in
            guard let store else {
                throw ActionableError(
                    "\(pipeline.name) has no checkpoint store yet, so no run to compare",
                    hint: "run it twice (kiln-pipe run \(file)), or give a --state that holds its runs")
            }
            let runs = try await RunHistory.runs(of: pipeline.name, in: store)
            let earlier = try await RunSelection.side(before ?? "last~1", runs: runs, store: store)
            let later = try await RunSelection.side(after ?? "last", runs: runs, store: store)
            return try await RunHistory.withDetails(RunComparison(earlier, later), in: store)
        }
        try Self.present(comparison, gate: gate, json: json, markdown: markdown)
        if let gate, !gate.failures(in: comparison).isEmpty { throw ExitCode(KilnExitCode.thresholdFailed) }
    }

    /// Prints the comparison as asked; an unknown gated score is an error (a typo would gate nothing).
    static func present(_ comparison: RunComparison, gate: RegressionGate?, json: Bool, markdown: Bool) throws {
        try gate?.checkScores(of: comparison)
        if json {
            print(ComparisonReport.json(comparison, gate: gate).serialized())
        } else if markdown {
            print(ComparisonReport.markdown(comparison, gate: gate), terminator: "")
        } else {
            printText(comparison, gate: gate)
        }
    }

    static func printText(_ comparison: RunComparison, gate: RegressionGate?) {
        print("compared: \(comparison.before) → \(comparison.after)")
        print(ComparisonReport.summaryLine(comparison))
        if !comparison.changedStages.isEmpty {
            print("stages asked something else: " + comparison.changedStages.joined(separator: ", "))
        }
        if !comparison.unmatchedStages.isEmpty {
            print("judge stages in one run only (not compared): " + comparison.unmatchedStages.joined(separator: ", "))
        }
        if !comparison.rows.isEmpty {
            print("")
            Table.print(
                [ComparisonReport.scoreHeader]
                    + comparison.rows.map { ComparisonReport.scoreCells($0, gate: gate) })
        }
        for kind in RunComparison.Change.allCases {
            let items = comparison.items(kind)
            guard !items.isEmpty else { continue }
            print("\n\(kind.rawValue) (\(items.count)):")
            for item in items.prefix(ComparisonReport.listed) {
                print("  \(ComparisonReport.itemLine(item))")
                if let input = (item.after ?? item.before)?.detail?.input { print("    input:  \(input.excerpt(160))") }
                for (label, side) in [("before", item.before), ("after", item.after)] {
                    guard let detail = side?.detail else { continue }
                    print("    \(label): \(detail.output.excerpt(160))")
                    if let reason = detail.reason { print("      why: \(reason.excerpt(160))") }
                }
            }
            if items.count > ComparisonReport.listed {
                print("  … and \(items.count - ComparisonReport.listed) more (--json lists them all)")
            }
        }
        guard let gate else { return }
        guard let verdicts = gate.verdicts(in: comparison) else {
            print("\nno regression beyond --fail-on-regression")
            return
        }
        print("\nregression: " + verdicts)
        let items = gate.regressedItems(in: comparison)
        print("regressed items: " + (items.isEmpty ? "none single out" : items.map(\.key).joined(separator: ", ")))
    }
}
