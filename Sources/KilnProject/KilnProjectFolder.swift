package import Foundation
package import KilnBasics

/// A Kiln project folder: `project.kiln` beside `tasks/<id> - <name>/task.kiln`. The one place that scans a
/// project for its tasks; the task reader, the `load` stage, the Kiln project writer and `kiln-pipe export` all
/// find a task through it.
package struct KilnProjectFolder: Sendable {
    /// The `project.kiln` file.
    package let projectFile: URL
    /// How the user named the project file, for messages.
    package let displayPath: String

    /// Opens a project by its folder or its `project.kiln`; throws when that file is missing, unreadable or not a
    /// project.
    package init(projectFile: String, displayPath: String? = nil) throws(ActionableError) {
        self.projectFile = URL(fileURLWithPath: Self.projectFile(at: projectFile)).standardizedFileURL
        self.displayPath = displayPath ?? projectFile
        guard FileManager.default.fileExists(atPath: self.projectFile.path) else {
            throw ActionableError(
                "there is no Kiln project at '\(self.displayPath)' (no \(self.projectFile.path))",
                hint: "point kiln_project at a Kiln project folder or its project.kiln; an export stage's "
                    + "kiln_project: starts a new project there")
        }
        let project = try Self.readJSON(self.projectFile, what: "Kiln project file '\(self.displayPath)'")
        // Kiln writes `model_type: project`; a hand-written file with only a name is accepted too.
        guard project["model_type"] == .string("project") || (project["model_type"] == nil && project["name"] != nil)
        else {
            throw ActionableError(
                "'\(self.displayPath)' is not a Kiln project file",
                hint: "point kiln_project at the project.kiln of a Kiln project folder")
        }
    }

    /// The `project.kiln` a path names: the path itself when it names a `.kiln` file, else the file in that folder.
    package static func projectFile(at path: String) -> String {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if (exists && !isDirectory.boolValue) || (!exists && path.hasSuffix(".kiln")) { return path }
        return (path.hasSuffix("/") ? path : path + "/") + "project.kiln"
    }

    /// The project's folder.
    package var directory: URL { projectFile.deletingLastPathComponent() }

    /// Where the project keeps its tasks.
    package var tasksFolder: URL { directory.appendingPathComponent("tasks") }

    /// The project's RAG configs (`rag_configs/*/rag_config.kiln`), as read; unreadable ones are left out.
    package func ragConfigs() -> [JSONValue] {
        Self.records(under: directory.appendingPathComponent("rag_configs"), file: "rag_config.kiln")
    }

    /// The project's vector store configs, as read.
    package func vectorStoreConfigs() -> [JSONValue] {
        Self.records(under: directory.appendingPathComponent("vector_store_configs"), file: "vector_store_config.kiln")
    }

    /// The `file` of every child folder of `folder` (`<id> - <name>/<file>`), as read; unreadable ones left out.
    static func records(under folder: URL, file: String) -> [JSONValue] {
        entries(of: folder).compactMap { name in
            try? readJSON(folder.appendingPathComponent(name).appendingPathComponent(file), what: name)
        }
    }

    /// Every task of the project, in folder-name order. A `task.kiln` that cannot be read is an error naming it: a
    /// project with a damaged task is not silently read as one without it.
    package func tasks() throws(ActionableError) -> [KilnTaskFolder] {
        var tasks: [KilnTaskFolder] = []
        for name in Self.entries(of: tasksFolder) {
            let file = tasksFolder.appendingPathComponent(name).appendingPathComponent("task.kiln")
            guard FileManager.default.fileExists(atPath: file.path) else { continue }
            let record = try Self.readJSON(file, what: "Kiln task file 'tasks/\(name)/task.kiln'")
            tasks.append(KilnTaskFolder(url: file.deletingLastPathComponent(), record: record))
        }
        return tasks
    }

    /// The task with this id, or an error listing the tasks the project has.
    package func task(id: String) throws(ActionableError) -> KilnTaskFolder {
        let tasks = try tasks()
        if let task = tasks.first(where: { $0.id == id }) { return task }
        throw ActionableError(
            "Kiln project '\(displayPath)' has no task with id '\(id)'",
            hint: tasks.isEmpty
                ? "the project has no tasks yet"
                : "its tasks are: \(tasks.map { "\($0.id) '\($0.name)'" }.joined(separator: ", "))")
    }

    /// The names in a folder, sorted (none when it does not exist).
    static func entries(of folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    /// A `.kiln` file's JSON object.
    package static func readJSON(_ file: URL, what: String) throws(ActionableError) -> JSONValue {
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw .io("read", what, hint: "check that the file exists and is readable", cause: error)
        }
        do {
            let value = try JSONValue(parsing: String(decoding: data, as: UTF8.self))
            guard value.objectValue != nil else {
                throw JSONParseError(message: "expected a JSON object", line: 1, column: 1)
            }
            return value
        } catch {
            throw ActionableError(
                "\(what) is not valid JSON: \(error)", hint: "restore it from the Kiln app or git", cause: error)
        }
    }
}

/// One task's folder in a Kiln project: `task.kiln` with `runs/`, `dataset_splits/`, `evals/`, `run_configs/`.
package struct KilnTaskFolder: Sendable {
    package let url: URL
    /// The task.kiln record.
    package let record: JSONValue

    package var id: String { record["id"]?.stringValue ?? "" }
    package var name: String { record["name"]?.stringValue ?? url.lastPathComponent }

    /// `runs/<id>/task_run.kiln`.
    package func runFile(id: String) -> URL {
        url.appendingPathComponent("runs").appendingPathComponent(id).appendingPathComponent("task_run.kiln")
    }

    /// The ids of the task's runs (their folder names), sorted.
    package func runIDs() -> [String] { KilnProjectFolder.entries(of: url.appendingPathComponent("runs")) }

    /// The task's saved prompts (`prompts/<id> - <name>/prompt.kiln`) that can be read, in folder-name order.
    package func savedPrompts() -> [JSONValue] { records(in: "prompts", file: "prompt.kiln") }

    /// The task's dataset splits that can be read, in folder-name order.
    package func datasetSplits() -> [JSONValue] { records(in: "dataset_splits", file: "dataset_split.kiln") }

    private func records(in relationship: String, file: String) -> [JSONValue] {
        KilnProjectFolder.records(under: url.appendingPathComponent(relationship), file: file)
    }
}
