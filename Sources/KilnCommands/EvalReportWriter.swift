import Foundation
import KilnBasics
import KilnModel
import KilnReports
import KilnRunner
import KilnStages

/// After a run: the reports of every judge stage that ran, and GitHub's step summary when it is there.
enum EvalReportWriter {
    /// One judge stage's reports.
    struct Written {
        var stage: String
        var folder: String
        var summary: EvalSummary
    }

    /// Each judge stage that ran, summarized (nothing written yet): `stoppedBy` says why the run stopped early, if
    /// it did, and the summaries then say they are partial.
    static func summaries(_ report: RunReport, pipeline: Pipeline, stoppedBy: String?) throws -> [Judged] {
        try report.stages.compactMap { stage -> (StageReport, JudgeSettings, String)? in
            guard stage.type == .judge, let resultsFile = stage.outputFile,
                let spec = pipeline.stage(withID: stage.id), case .judge(let settings) = spec.settings
            else { return nil }
            return (stage, settings, resultsFile)
        }.map { stage, settings, resultsFile in
            var summary = try EvalSummary(
                pipeline: pipeline.name, stage: stage.id, resultsFile: resultsFile,
                scoreTypes: JudgeScores.names(of: settings, task: pipeline.task), thresholds: stage.thresholds,
                failedItems: stage.failed > 0 ? stage.problems : [])
            summary.partial = stoppedBy
            summary.meanScores = Set(settings.assertions.filter { $0.kind == .reciprocalRank }.map(\.name))
            return Judged(stage: stage.id, summary: summary, resultsFile: resultsFile)
        }
    }

    /// A judge stage's summary and results, before its reports are written.
    struct Judged {
        var stage: String
        var summary: EvalSummary
        var resultsFile: String
    }

    /// Writes each judged stage's reports to `directory/<stage>` when `folderPerStage` is set or several judge
    /// stages ran, else to `directory`; with a comparison (`--baseline`), its part for the stage goes in too.
    /// Returns the folders written and what they summarize, by judge stage.
    static func write(
        _ judged: [Judged], directory: String, folderPerStage: Bool, comparison: RunComparison?,
        gate: RegressionGate?
    ) throws -> [Written] {
        var written: [Written] = []
        for stage in judged {
            let folder =
                judged.count == 1 && !folderPerStage
                ? directory : URL(fileURLWithPath: directory).appendingPathComponent(stage.stage).path
            let compared = comparison.map { $0.only(stage: stage.stage) }
            do {
                try EvalReports.write(
                    stage.summary, resultsFile: stage.resultsFile, to: folder, comparison: compared, gate: gate)
            } catch {
                throw ActionableError.io(
                    "write the eval reports to", folder,
                    hint:
                        "choose a writable --report-dir; the run's results are kept in the checkpoint store, "
                        + "so a rerun "
                        + "writes the reports without a call", cause: error)
            }
            if let stepSummary = ProcessInfo.processInfo.environment["GITHUB_STEP_SUMMARY"], !stepSummary.isEmpty,
                let handle = FileHandle(forWritingAtPath: stepSummary)
            {
                handle.seekToEndOfFile()
                var markdown = MarkdownReport.render(stage.summary) + "\n"
                if let compared { markdown += ComparisonReport.markdown(compared, gate: gate) + "\n" }
                handle.write(Data(markdown.utf8))
                handle.closeFile()
            }
            written.append(Written(stage: stage.stage, folder: folder, summary: stage.summary))
        }
        return written
    }
}
