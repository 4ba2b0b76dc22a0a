import Foundation
import KilnBasics
import KilnExport
package import KilnModel
import KilnStore

/// `kiln-pipe export`: a dataset split of a Kiln project as fine-tune files, exactly as Kiln's formatter writes
/// them, with no pipeline file.
package struct KilnSplitExport: Sendable {
    package var projectFile: String
    package var taskID: String
    package var task: TaskDefinition
    /// The split's id or name.
    package var split: String
    /// One part (`train`), or every part when nil.
    package var part: String?
    package var format: ExportFormat?
    package var strategy: ChatStrategy
    package var target: ExportTarget?
    package var systemMessage: String?
    package var thinkingInstructions: String?
    /// A file with `part`, else a folder receiving `<part>.jsonl` per part.
    package var out: String
    package var force: Bool

    package init(
        projectFile: String, taskID: String, task: TaskDefinition, split: String, part: String?, format: ExportFormat?,
        strategy: ChatStrategy, target: ExportTarget?, systemMessage: String?, thinkingInstructions: String?,
        out: String,
        force: Bool
    ) {
        self.projectFile = projectFile
        self.taskID = taskID
        self.task = task
        self.split = split
        self.part = part
        self.format = format
        self.strategy = strategy
        self.target = target
        self.systemMessage = systemMessage
        self.thinkingInstructions = thinkingInstructions
        self.out = out
        self.force = force
    }

    /// Writes the files; returns each written path with its example count.
    package func run() throws -> [(path: String, count: Int)] {
        let taskFolder = try KilnRunsReader(projectFile: projectFile, taskID: taskID, filter: .all).taskFolder()
        let splitFile = try findSplit(in: taskFolder)
        let contents = splitFile["split_contents"]?.objectValue ?? JSONObject()
        let parts: [String]
        if let part {
            guard contents[part] != nil else {
                throw RunSetupError(
                    "the split has no part '\(part)'", hint: "its parts are \(contents.keys.joined(separator: ", "))")
            }
            parts = [part]
        } else {
            parts = contents.keys
        }
        let settings = ExportSettings(
            format: format, strategy: strategy, target: target, out: out, systemMessage: systemMessage,
            thinkingInstructions: thinkingInstructions)
        let stage = ExportStage(
            stageID: "export", settings: settings, task: task, store: InMemoryCheckpointStore(),
            baseDirectory: FileManager.default.currentDirectoryPath,
            force: force)
        var written: [(String, Int)] = []
        for name in parts {
            let path =
                part == nil
                ? stage.path(for: name)
                : (out.hasPrefix("/") ? out : FileManager.default.currentDirectoryPath + "/" + out)
            if FileManager.default.fileExists(atPath: path), !force {
                throw RunSetupError(
                    "\(path) already exists", hint: "choose another --out, or pass --force to replace it")
            }
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try Folder.create(folder, as: "the folder", hint: "choose a writable --out")
            let writer = try JSONLinesWriter(path: path)
            var count = 0
            do {
                count = try write(part: name, contents: contents, taskFolder: taskFolder, stage: stage, to: writer)
            } catch {
                writer.discard()
                throw error
            }
            try writer.close()
            written.append((path, count))
        }
        return written
    }

    private func write(
        part name: String, contents: JSONObject, taskFolder: URL, stage: ExportStage, to writer: JSONLinesWriter
    ) throws -> Int {
        var count = 0
        // The same for every example: computed once.
        let (format, system, instructions) = (stage.format, stage.systemMessage, stage.thinkingInstructions)
        for id in contents[name]?.arrayValue?.compactMap(\.stringValue) ?? [] {
            let file = taskFolder.appendingPathComponent("runs").appendingPathComponent(id).appendingPathComponent(
                "task_run.kiln")
            guard let run = try? KilnRunsReader.json(at: file) else {
                throw RunSetupError("Task run \(id) not found. This is required by this dataset.")
            }
            let final = run["repaired_output"]?["output"] ?? run["output"]?["output"]
            let example = TrainingExample(
                input: run["input"]?.stringValue ?? "", final: final?.stringValue ?? "",
                thinking: KilnRunsReader.reasoning(of: run))
            do {
                try writer.write(
                    line: try ExportFormatter.line(
                        for: example, format: format, system: system, strategy: strategy,
                        thinkingInstructions: instructions))
            } catch let error as ExportError {
                throw RunSetupError("task run \(id): \(error.message)")
            }
            count += 1
        }
        return count
    }

    private func findSplit(in taskFolder: URL) throws -> JSONValue {
        let folder = taskFolder.appendingPathComponent("dataset_splits")
        var available: [String] = []
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted() {
            guard
                let document = try? KilnRunsReader.json(
                    at: folder.appendingPathComponent(name).appendingPathComponent("dataset_split.kiln"))
            else { continue }
            if document["id"]?.stringValue == split || document["name"]?.stringValue == split { return document }
            available.append("\(document["id"]?.stringValue ?? "?") '\(document["name"]?.stringValue ?? name)'")
        }
        throw RunSetupError(
            "the task has no dataset split '\(split)'",
            hint: available.isEmpty
                ? "create one in the Kiln app, or with a split stage"
                : "its splits are \(available.joined(separator: ", "))")
    }
}
