import ArgumentParser
import Dispatch
import Foundation
import KilnBasics
import KilnModel
import KilnReports
import KilnRunner
import KilnStages

/// `kiln-pipe run FILE`: runs the pipeline, resuming from the checkpoint store.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline; a rerun resumes and never pays twice for finished work.",
        discussion: """
            Finished units of work are read from the checkpoint store instead of calling a provider again, so \
            rerunning a finished pipeline makes no call, and a changed stage recomputes only what its change \
            affects. Exit codes: 0 done, 2 invalid pipeline or setup, 3 some items failed, 4 budget or quota \
            reached, 130 interrupted (rerun to resume).
            """
    )

    @Argument(help: "The pipeline file.", completion: .file(extensions: ["yml", "yaml"]))
    var file: String

    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var stateOptions: StateOptions

    @Option(
        parsing: .upToNextOption,
        help: "Run only these stages and the stages that feed them (which reuse what is stored).")
    var only: [String] = []

    @Option(help: "Override every provider's max_concurrency.")
    var concurrency: Int?

    @Flag(help: "Ignore cached results of every stage (see --fresh-stage for some).")
    var fresh = false

    @Option(name: .customLong("fresh-stage"), help: "Ignore cached results of this stage (repeatable).")
    var freshStages: [String] = []

    @Flag(help: "Make no provider call: serve everything from the checkpoint store; a miss is a failed item.")
    var offline = false

    @Option(
        help: "Add a cassette written by freeze to the checkpoint store first (with --offline: rebuild with no key).")
    var cassette: String?

    @Option(
        name: .customLong("max-cost"),
        help: "Stop dispatching paid calls past this spend in USD (overrides max_cost_usd).")
    var maxCost: Double?

    @Option(help: "Where each stage's items are written as JSONL (default: .kiln-pipe/out/<name> beside the file).")
    var out: String?

    @Flag(help: "Let export stages replace files kiln-pipe did not write.")
    var force = false

    @Flag(help: "Print JSON-lines events instead of text.")
    var json = false

    @Flag(help: "Print only the final summary.")
    var quiet = false

    @Option(
        help: ArgumentHelp(
            "Seconds between progress lines (default 0.5 on a terminal, 5 otherwise, as in CI logs).",
            valueName: "SECONDS"))
    var progressInterval: Double?

    @Option(
        help: ArgumentHelp(
            "Seconds in-flight calls get to finish after Ctrl-C, SIGTERM or SIGHUP before the run exits anyway.",
            valueName: "SECONDS"))
    var grace = Interrupts.defaultGraceSeconds

    @Flag(help: "Report failed eval thresholds without failing (exit 0 instead of 1).")
    var allowFailures = false

    @Option(
        help: ArgumentHelp(
            "Where judge stages write summary.md, summary.json, junit.xml, report.html and results.jsonl (default "
                + ".kiln-pipe/reports/<pipeline>/<stage>/ beside the pipeline file; with several judge stages, a "
                + "subfolder per stage of DIR).",
            valueName: "DIR"))
    var reportDir: String?

    @Option(
        help: ArgumentHelp(
            "Compare this run with a baseline: a run id (kiln-pipe runs), last, or a committed summary.json; the "
                + "comparison is printed and added to the reports.", valueName: "RUN|FILE"))
    var baseline: String?

    @OptionGroup var regression: RegressionOptions

    @Option(
        help: ArgumentHelp(
            "Run one of COUNT parallel shards (INDEX from 0): only the items whose stable hash falls in it. "
                + "Use a store every shard shares (--state postgres://…).",
            valueName: "INDEX/COUNT"))
    var shard: String?

    @Flag(
        name: .customLong("after-shards"),
        help: ArgumentHelp(
            "Once every shard finished: serve their work from the shared store and run split, export and index "
                + "over all items.")
    )
    var afterShards = false

    func validate() throws {
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if let maxCost, maxCost <= 0 { throw ValidationError("--max-cost must be greater than 0") }
        if !(grace >= 0) { throw ValidationError("--grace must be 0 seconds or more") }
        if let progressInterval, !(progressInterval >= 0.05) {
            throw ValidationError("--progress-interval must be at least 0.05 seconds")
        }
        if shard != nil, afterShards {
            throw ValidationError(
                "--shard and --after-shards go to different runs: the shards first, then one --after-shards")
        }
        if let shard {
            do { _ = try Shard(parsing: shard) } catch let error as ActionableError {
                throw ValidationError(error.description)
            }
        }
        if regression.failOnRegression != nil, baseline == nil {
            throw ValidationError(
                "--fail-on-regression needs --baseline RUN|FILE (what to compare with), e.g. --baseline last")
        }
    }

    func run() async throws {
        let pipeline = try LoadedPipeline.load(file, options: pipelineOptions)
        for (flag, names) in [("--only", only), ("--fresh-stage", freshStages)] {
            for stage in names where pipeline.stage(withID: stage) == nil {
                throw ActionableError(
                    "\(flag) names unknown stage '\(stage)'",
                    hint: NearMiss.hint(for: stage, among: pipeline.stages.map(\.id), listing: "the stages are"))
            }
        }
        let shard = try shard.map(Shard.init(parsing:))
        // Shards started on one machine share the default folders: each writes its own subfolder of them.
        let shardFolder = shard.map { "shard-\($0.index)-of-\($0.count)" }
        let outputDirectory =
            out ?? LoadedPipeline.outputDirectory(for: pipeline) + (shardFolder.map { "/\($0)" } ?? "")
        // By default beside the state, a folder per pipeline and stage: two pipelines run from one folder never
        // overwrite each other's reports.
        let reportDirectory =
            (reportDir ?? LoadedPipeline.reportsDirectory(for: pipeline)) + (shardFolder.map { "/\($0)" } ?? "")
        if pipeline.stages.contains(where: { $0.type == .judge }) {
            // Before any call: a report folder that cannot be written would otherwise fail the run at its end.
            try Folder.create(
                reportDirectory, as: "the report folder", hint: "choose a writable --report-dir; nothing was run")
        }
        let options = RunOptions(
            statePath: LoadedPipeline.statePath(for: pipeline, override: stateOptions.state),
            outputDirectory: outputDirectory,
            environment: ProcessInfo.processInfo.environment, freshStages: Set(freshStages), freshAll: fresh,
            offline: offline, onlyStages: only.isEmpty ? nil : Set(only), concurrency: concurrency, maxCostUSD: maxCost)
        var runOptions = options
        runOptions.force = force
        runOptions.cassettePath = cassette
        runOptions.shard = shard
        runOptions.fakeModel = FakeModel()
        runOptions.afterShards = afterShards
        let startedAt = Date()
        let engine = RunEngine(pipeline: pipeline, options: runOptions)
        let progress = RunProgress(stages: pipeline.stages.map { ($0.id, StageReport(id: $0.id, type: $0.type)) })
        let renderer = ProgressRenderer(style: json ? .json : quiet ? .quiet : .text, interval: progressInterval)
        let (report, interruption) = try await Interrupts.handling(stop: engine.stop, graceSeconds: grace) {
            try await renderer.whileRunning(
                progress,
                totals: {
                    // A shard does a share of each stage the forecast cannot tell: no totals then.
                    guard shard == nil, let forecast = try? await Forecaster(pipeline: pipeline).forecast(store: nil)
                    else { return [:] }
                    return forecast.reduce(into: [:]) { totals, stage in totals[stage.id] = stage.units }
                }
            ) {
                // `kiln-pipe view` shows the run's progress while it goes.
                try await LiveRunFile.whileRunning(progress, pipeline: pipeline, startedAt: startedAt) {
                    try await engine.run(progress: progress)
                }
            }
        }
        let stoppedBy =
            report.stop.map { $0 == .interrupted ? "interrupted (\(interruption ?? "Ctrl-C"))" : "\($0)" }
            ?? interruption.map { "interrupted (\($0))" }
        let interrupted = interruption != nil
        let exit = Self.exit(for: report, interruption: interruption, allowFailures: allowFailures)
        let aftermath: RunAftermath
        do {
            aftermath = try await RunAftermath.finish(
                report, pipeline: pipeline,
                settings: RunAftermath.Settings(
                    statePath: options.statePath, reportDirectory: reportDirectory, folderPerStage: reportDir == nil,
                    stoppedBy: stoppedBy, baseline: baseline, gate: try regression.gate(),
                    startedAt: startedAt),
                exit: exit)
        } catch {
            // The run's own summary still shows; then the one error line (exit 2).
            renderer.finish(
                report, pipeline: pipeline, file: file, interrupted: interrupted,
                aftermath: RunAftermath(exit: (KilnExitCode.invalidInput, "\(error)")))
            throw error
        }
        renderer.finish(report, pipeline: pipeline, file: file, interrupted: interrupted, aftermath: aftermath)
        throw ExitCode(aftermath.exit.code)
    }

    /// The exit code and why, in words (the last `--json` event carries both).
    static func exit(
        for report: RunReport, interruption: String?, allowFailures: Bool
    ) -> (code: Int32, reason: String) {
        let code = exitCode(for: report, interrupted: interruption != nil, allowFailures: allowFailures)
        let failedThresholds = report.thresholds.filter { !$0.passed }.count
        let reason: String
        switch code {
        case KilnExitCode.success:
            reason =
                failedThresholds > 0
                ? "done; \(counted(failedThresholds, "threshold condition")) failed (--allow-failures)" : "done"
        case KilnExitCode.thresholdFailed: reason = "\(counted(failedThresholds, "threshold condition")) failed"
        case KilnExitCode.failedItems: reason = "\(counted(report.failedItems, "item")) failed, beyond max_error_rate"
        case KilnExitCode.interrupted: reason = "interrupted (\(interruption ?? "Ctrl-C")): rerun to resume"
        default: reason = report.stop.map { "stopped: \($0)" } ?? "stopped"
        }
        return (code, reason)
    }

    /// Run errors (3) are told apart from quality failures (1): failed items within `max_error_rate` still let
    /// the thresholds decide.
    static func exitCode(for report: RunReport, interrupted: Bool, allowFailures: Bool) -> Int32 {
        switch report.stop {
        case .keyRejected, .storeUnwritable, .unreachable, .stageFailed: return KilnExitCode.invalidInput
        case .quotaExhausted, .budgetReached: return KilnExitCode.budgetReached
        case .interrupted: return KilnExitCode.interrupted
        case nil: break
        }
        if interrupted { return KilnExitCode.interrupted }
        if !report.failuresTolerated { return KilnExitCode.failedItems }
        if !allowFailures, report.thresholds.contains(where: { !$0.passed }) { return KilnExitCode.thresholdFailed }
        return KilnExitCode.success
    }
}
