import Foundation
import KilnBasics
import KilnModel
import KilnReports
import KilnRunner
import KilnStages
import KilnStore

/// What `run` does once the stages are done: summarize each judge stage, compare with the baseline (`--baseline`),
/// gate on a regression (`--fail-on-regression`), write the reports, and record the run in the history.
struct RunAftermath {
    var reports: [EvalReportWriter.Written] = []
    var comparison: RunComparison?
    var gate: RegressionGate?
    /// The run's id in the history; nil when it could not be recorded (said on standard error).
    var runID: String?
    /// What fell further than `--fail-on-regression` allows, in words; nil when nothing did.
    var regression: String?
    var exit: (code: Int32, reason: String)

    struct Settings {
        var statePath: String
        var reportDirectory: String
        var folderPerStage: Bool
        var stoppedBy: String?
        var baseline: String?
        var gate: RegressionGate?
        var startedAt: Date
    }

    /// Throws only what keeps the reports from being written (exit 2): a baseline that cannot be read, a report
    /// folder that cannot be written.
    static func finish(
        _ report: RunReport, pipeline: Pipeline, settings: Settings, exit: (code: Int32, reason: String)
    ) async throws -> RunAftermath {
        var outcome = RunAftermath(gate: settings.gate, exit: exit)
        let judged = try EvalReportWriter.summaries(report, pipeline: pipeline, stoppedBy: settings.stoppedBy)
        if case .storeUnwritable = report.stop {
            // Nothing can be recorded or compared from a store that cannot be written: the reports still are.
            outcome.reports = try EvalReportWriter.write(
                judged, directory: settings.reportDirectory, folderPerStage: settings.folderPerStage, comparison: nil,
                gate: nil)
            return outcome
        }
        try await StoreLocation.with(settings.statePath) { store in
            if let baseline = settings.baseline {
                let runs = try await RunHistory.runs(of: pipeline.name, in: store)
                let before = try await RunSelection.side(baseline, runs: runs, store: store)
                let after = RunSide(
                    name: "this run",
                    stages: try judged.map { stage in
                        RunSide.Stage(
                            summary: EvalReports.summaryJSON(stage.summary),
                            items: try ScoredItem.read(resultsFile: stage.resultsFile, details: true))
                    },
                    fingerprints: StageLedger.fingerprints(
                        of: pipeline, baseDirectory: LoadedPipeline.directory(of: pipeline).path))
                let comparison = try await RunHistory.withDetails(RunComparison(before, after), in: store)
                outcome.comparison = comparison
                if let gate = settings.gate {
                    try gate.checkScores(of: comparison)
                    outcome.regression = gate.verdicts(in: comparison).map {
                        "regressed against \(comparison.before): \($0)"
                    }
                    // A regression fails the run as a missed threshold does, unless the run failed worse already.
                    if let regression = outcome.regression, exit.code == KilnExitCode.success {
                        outcome.exit = (KilnExitCode.thresholdFailed, regression)
                    }
                }
            }
            outcome.reports = try EvalReportWriter.write(
                judged, directory: settings.reportDirectory, folderPerStage: settings.folderPerStage,
                comparison: outcome.comparison, gate: settings.gate)
            do {
                let run = try await RunHistory.record(
                    report, pipeline: pipeline,
                    judged: judged.map {
                        RunHistory.Judged(
                            stage: $0.stage, summary: EvalReports.summaryJSON($0.summary), resultsFile: $0.resultsFile)
                    },
                    startedAt: settings.startedAt, exit: outcome.exit, in: store)
                outcome.runID = run.id
            } catch {
                StandardError.write("warning: the run was not recorded in the run history: \(error)")
            }
        }
        return outcome
    }
}
