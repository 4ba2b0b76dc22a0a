import Foundation
import KilnBasics
import KilnModel
import KilnProject
import KilnStore

/// `export`: fine-tune files in Kiln's formats (through `ExportFiles`, with their overwrite policy) and, with
/// `kiln_project:`, the items as task runs of a Kiln project.
struct ExportStage: Stage {
    let stageID: String
    let settings: ExportSettings
    /// A fresh set of files for a run (it holds open file handles, so each run makes its own).
    let files: @Sendable () -> ExportFiles

    /// Streams each item into the file of its split part (`.partial` until the end) and, with `kiln_project:`,
    /// into the Kiln project as a task run.
    func run(
        _ run: StageRun, report: inout StageReport, emit: (PipelineItem) async throws -> Void
    ) async throws
        -> RunStop?
    {
        var files = files()
        var kept = PartCounts()
        // `kiln_project:` writes task runs into a Kiln project; files too when `out:` is given.
        var project = try settings.kilnProject.flatMap { path -> KilnProjectWriter? in
            run.options.dryRun
                ? nil
                : try KilnProjectWriter(
                    projectFile: path.hasPrefix("/") ? path : run.shared.baseDirectory + "/" + path,
                    pipeline: run.pipeline, stage: run.spec)
        }
        let writesFiles = settings.out != nil || settings.kilnProject == nil
        do {
            for channel in run.inputs {
                while let item = await channel.receive() {
                    let part = item.fields["split"]?.stringValue
                    if let part, !settings.parts.isEmpty, !settings.parts.contains(part) { continue }
                    try project?.write(item)
                    if writesFiles, let problem = try await files.write(item) {
                        report.fail("\(item.id): \(problem)")
                        continue
                    }
                    if !writesFiles { kept.add(part ?? "") }
                    report.items += 1
                    report.computed += 1
                }
            }
        } catch {
            // Nothing partial under a final name: the files of a stage that did not finish are dropped.
            files.discard()
            throw error
        }
        // The run stopped (Ctrl-C, a budget, a quota, a rejected key): the inputs ended early, so the files would
        // hold only part of the data under their final names. They are dropped; a rerun writes them whole.
        if run.shared.stop.isSet {
            files.discard()
            report.note("not written: the run stopped before every item arrived; a rerun writes the files whole")
            return nil
        }
        if let project {
            let upstream = run.spec.from.first.flatMap { run.pipeline.stage(withID: $0) }
            var split: SplitSettings?
            if case .split(let settings) = upstream?.settings { split = settings }
            let splitFile = try project.finish(split: split)
            let runs = project.written.values.reduce(0) { $0 + $1.count }
            let evalRuns = project.evalRuns > 0 ? " and \(counted(project.evalRuns, "eval run"))" : ""
            let skipped = project.skipped > 0 ? "; \(project.skipped) items without an output skipped" : ""
            report.note(
                (project.startedProject ? "started the Kiln project \(project.projectDirectory.path); " : "")
                    + "wrote \(counted(runs, "task run"))\(evalRuns) to \(project.taskDirectory.path)"
                    + (splitFile.map { " and the dataset split \($0)" } ?? "") + skipped)
            if project.keptReviewed > 0 {
                report.note(
                    "kept \(counted(project.keptReviewed, "run")) a person rated or repaired in Kiln as they were; "
                        + "the changed results are new runs beside them")
            }
        }
        for (path, count) in try await files.finish() {
            report.files.append(path)
            report.note("wrote \(counted(count, "example")) to \(path)")
        }
        let parts = (writesFiles ? files.counts : kept).parts
        report.parts = parts.map { ($0.isEmpty ? "all" : $0, $1) }
        return nil
    }
}
