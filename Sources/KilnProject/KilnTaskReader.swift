package import KilnBasics
package import KilnModel

/// Reads a task definition from a Kiln project folder (`project.kiln` + `tasks/<id> - <name>/task.kiln`).
package enum KilnTaskReader {
    /// The task with `taskID` of the project at `projectFile`.
    package static func read(
        projectFile: String, taskID: String, displayPath: String
    ) throws(ActionableError)
        -> TaskDefinition
    {
        let project = try KilnProjectFolder(projectFile: projectFile, displayPath: displayPath)
        return try definition(of: try project.task(id: taskID), in: project)
    }

    /// The definition a task folder's task.kiln holds.
    package static func definition(
        of task: KilnTaskFolder, in project: KilnProjectFolder
    ) throws(ActionableError)
        -> TaskDefinition
    {
        try definition(from: task.record, taskID: task.id, projectPath: project.displayPath)
    }

    private static func definition(
        from task: JSONValue, taskID: String, projectPath: String
    ) throws(ActionableError)
        -> TaskDefinition
    {
        guard let instruction = task["instruction"]?.stringValue else {
            throw ActionableError(
                "Kiln task '\(taskID)' has no instruction", hint: "give the task an instruction in the Kiln app")
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
    ) throws(ActionableError)
        -> JSONValue?
    {
        guard let text = value?.stringValue else { return nil }
        do {
            return try JSONValue(parsing: text)
        } catch {
            throw ActionableError(
                "Kiln task '\(taskID)' has an invalid \(field): \(error)", hint: "fix the schema in the Kiln app",
                cause: error)
        }
    }
}
