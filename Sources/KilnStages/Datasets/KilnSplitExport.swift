import Foundation
import KilnBasics
package import KilnModel
import KilnProject
package import KilnStore

/// `kiln-pipe export`: a dataset split of a Kiln project as fine-tune files, with no pipeline file. The runs of the
/// split go through the `export` stage's own `ExportFiles`, so the formats, the paths (`out` is the file with one
/// part, the folder of `<part>.jsonl` files without), the overwrite policy and the checks are the stage's.
package struct KilnSplitExport: Sendable {
    package var projectFile: String
    package var taskID: String
    /// The split's id or name.
    package var split: String
    /// One part (`train`), or every part when nil.
    package var part: String?
    package var settings: ExportSettings
    package var force: Bool

    package init(
        projectFile: String, taskID: String, split: String, part: String?, settings: ExportSettings, force: Bool
    ) {
        self.projectFile = projectFile
        self.taskID = taskID
        self.split = split
        self.part = part
        self.settings = settings
        self.force = force
    }

    /// Writes the files; returns each written path with its example count. `store` remembers what was written, so
    /// a second export may replace its own files (and only those) without `force`.
    package func run(store: any CheckpointStore) async throws -> [(path: String, count: Int)] {
        let project = try KilnProjectFolder(projectFile: projectFile)
        let taskFolder = try project.task(id: taskID)
        let task = try KilnTaskReader.definition(of: taskFolder, in: project)
        let problems = ExportSettings.problems(
            format: settings.format, strategy: settings.strategy, target: settings.target,
            structuredTask: task.outputSchema != nil)
        if let problem = problems.first {
            throw ActionableError("--\(problem.setting.rawValue): \(problem.message)", hint: problem.hint)
        }
        let contents = try findSplit(in: taskFolder)["split_contents"]?.objectValue ?? JSONObject()
        if let part, contents[part] == nil {
            throw ActionableError(
                "the split has no part '\(part)'", hint: "its parts are \(contents.keys.joined(separator: ", "))")
        }
        var files = ExportFiles(
            settings: settings, task: task, store: store, baseDirectory: FileManager.default.currentDirectoryPath,
            force: force, outSetting: "--out")
        do {
            for name in part.map({ [$0] }) ?? contents.keys {
                for id in contents[name]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                    guard
                        let run = try? KilnProjectFolder.readJSON(
                            taskFolder.runFile(id: id), what: "runs/\(id)/task_run.kiln")
                    else {
                        throw ActionableError(
                            "Task run \(id) not found. This is required by this dataset.",
                            hint: "the split lists a run that is no longer in \(taskFolder.url.path)/runs")
                    }
                    var item = KilnRunsReader.item(from: run, id: id)
                    // One part goes to `out` itself; every part to `out/<part>.jsonl`.
                    if part == nil { item.fields["split"] = .string(name) }
                    if let problem = try await files.write(item) {
                        throw ActionableError("task run \(id): \(problem)", hint: "fix or drop the run in Kiln")
                    }
                }
            }
            return try await files.finish()
        } catch {
            files.discard()
            throw error
        }
    }

    private func findSplit(in task: KilnTaskFolder) throws -> JSONValue {
        let splits = task.datasetSplits()
        if let found = splits.first(where: { $0["id"]?.stringValue == split || $0["name"]?.stringValue == split }) {
            return found
        }
        let available = splits.map { "\($0["id"]?.stringValue ?? "?") '\($0["name"]?.stringValue ?? "")'" }
        throw ActionableError(
            "the task has no dataset split '\(split)'",
            hint: available.isEmpty
                ? "create one in the Kiln app, or with a split stage"
                : "its splits are \(available.joined(separator: ", "))")
    }
}
