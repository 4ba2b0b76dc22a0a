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

    /// `stoppedBy` says why the run stopped early, if it did: the reports then say they are partial. Each stage
    /// writes to `directory/<stage>` when `folderPerStage` is set or several judge stages ran, else to `directory`.
    /// Returns the folders written and what they summarize, by judge stage.
    static func write(
        _ report: RunReport, pipeline: Pipeline, directory: String, folderPerStage: Bool, stoppedBy: String?
    ) throws -> [Written] {
        var written: [Written] = []
        let judged = report.stages.filter { $0.type == .judge && $0.outputFile != nil }
        for stage in judged {
            guard let spec = pipeline.stage(withID: stage.id), case .judge(let settings) = spec.settings,
                let resultsFile = stage.outputFile
            else { continue }
            var summary = try EvalSummary(
                pipeline: pipeline.name, stage: stage.id, resultsFile: resultsFile,
                scoreTypes: JudgeScores.names(of: settings, task: pipeline.task), thresholds: stage.thresholds,
                failedItems: stage.failed > 0 ? stage.problems : [])
            summary.partial = stoppedBy
            summary.meanScores = Set(settings.assertions.filter { $0.kind == .reciprocalRank }.map(\.name))
            let folder =
                judged.count == 1 && !folderPerStage
                ? directory : URL(fileURLWithPath: directory).appendingPathComponent(stage.id).path
            do {
                try EvalReports.write(summary, resultsFile: resultsFile, to: folder)
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
                handle.write(Data((MarkdownReport.render(summary) + "\n").utf8))
                handle.closeFile()
            }
            written.append(Written(stage: stage.id, folder: folder, summary: summary))
        }
        return written
    }
}
