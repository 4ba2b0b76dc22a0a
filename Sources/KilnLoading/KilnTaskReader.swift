import Foundation
import KilnBasics
package import KilnModel

/// Why a task could not be read from a Kiln project.
package struct KilnTaskReadError: Error, Sendable {
    package var message: String
    package var hint: String?
    /// The project was read, but has no task with that id.
    var concernsTaskID = false
}

/// Reads a task definition from a Kiln project folder (`project.kiln` + `tasks/<id> - <name>/task.kiln`).
package enum KilnTaskReader {
    package static func read(
        projectFile: String, taskID: String, displayPath: String
    ) throws(KilnTaskReadError)
        -> TaskDefinition
    {
        let project = try readJSON(projectFile, what: "Kiln project file '\(displayPath)'")
        guard project["model_type"] == .string("project") || project["name"] != nil else {
            throw KilnTaskReadError(
                message: "'\(displayPath)' is not a Kiln project file",
                hint: "point kiln_project at the project.kiln file")
        }
        let tasksFolder = URL(fileURLWithPath: projectFile).deletingLastPathComponent().appendingPathComponent("tasks")
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: tasksFolder.path)) ?? []
        var available: [(id: String, name: String)] = []
        for folder in folders.sorted() {
            let file = tasksFolder.appendingPathComponent(folder).appendingPathComponent("task.kiln").path
            guard FileManager.default.fileExists(atPath: file) else { continue }
            let task = try readJSON(file, what: "Kiln task file '\(folder)/task.kiln'")
            let id = task["id"]?.stringValue ?? ""
            if id == taskID { return try definition(from: task, taskID: taskID, projectPath: displayPath) }
            available.append((id, task["name"]?.stringValue ?? folder))
        }
        let listing = available.map { "\($0.id) '\($0.name)'" }.joined(separator: ", ")
        throw KilnTaskReadError(
            message: "Kiln project '\(displayPath)' has no task with id '\(taskID)'",
            hint: available.isEmpty ? "the project has no tasks yet" : "its tasks are: \(listing)", concernsTaskID: true
        )
    }

    private static func readJSON(_ path: String, what: String) throws(KilnTaskReadError) -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KilnTaskReadError(message: "cannot read \(what)", hint: "check that the file exists and is readable")
        }
        do {
            let value = try JSONValue(parsing: String(decoding: data, as: UTF8.self))
            guard value.objectValue != nil else {
                throw JSONParseError(message: "expected a JSON object", line: 1, column: 1)
            }
            return value
        } catch {
            throw KilnTaskReadError(
                message: "\(what) is not valid JSON: \(error)", hint: "restore it from the Kiln app or git")
        }
    }

    private static func definition(
        from task: JSONValue, taskID: String, projectPath: String
    ) throws(KilnTaskReadError)
        -> TaskDefinition
    {
        guard let instruction = task["instruction"]?.stringValue else {
            throw KilnTaskReadError(message: "Kiln task '\(taskID)' has no instruction", concernsTaskID: true)
        }
        var requirements: [TaskRequirement] = []
        for requirement in task["requirements"]?.arrayValue ?? [] {
            guard let name = requirement["name"]?.stringValue,
                let text = requirement["instruction"]?.stringValue
            else { continue }
            let type = requirement["type"]?.stringValue.flatMap(ScoreType.init(rawValue:)) ?? .fiveStar
            let priority = requirement["priority"].flatMap { $0.numberValue }.map { Int($0) } ?? 2
            requirements.append(TaskRequirement(name: name, instruction: text, type: type, priority: priority))
        }
        return TaskDefinition(
            name: task["name"]?.stringValue, instruction: instruction, requirements: requirements,
            thinkingInstruction: task["thinking_instruction"]?.stringValue,
            inputSchema: try schema(task["input_json_schema"], field: "input_json_schema", taskID: taskID),
            outputSchema: try schema(task["output_json_schema"], field: "output_json_schema", taskID: taskID),
            origin: .kilnProject(path: projectPath, taskID: taskID))
    }

    /// Kiln stores schemas as JSON text inside the task's JSON.
    private static func schema(
        _ value: JSONValue?, field: String, taskID: String
    ) throws(KilnTaskReadError)
        -> JSONValue?
    {
        guard let text = value?.stringValue else { return nil }
        do {
            return try JSONValue(parsing: text)
        } catch {
            throw KilnTaskReadError(
                message: "Kiln task '\(taskID)' has an invalid \(field): \(error)", concernsTaskID: true)
        }
    }
}
