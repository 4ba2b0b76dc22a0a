import KilnBasics
import KilnModel
import KilnProject
import Yams

extension PipelineBuilder {
    static let inlineTaskKeys = [
        "name", "instruction", "requirements", "system_prompt", "thinking_instruction", "input_schema", "output_schema",
    ]
    static let kilnTaskKeys = ["kiln_project", "task_id"]
    static let requirementKeys = ["name", "instruction", "type", "priority"]

    mutating func readTask(_ node: Node) -> TaskDefinition? {
        guard let fields = reader.fields(node, context: "the task", allowed: Self.inlineTaskKeys + Self.kilnTaskKeys)
        else { return nil }
        return readTask(fields, main: true)
    }

    /// A task's definition from its fields: inline, or a task of a Kiln project. The pipeline's own task (`main`)
    /// also keeps the Kiln task it came from, for its saved prompts.
    mutating func readTask(_ fields: Fields, main: Bool) -> TaskDefinition? {
        let node = fields.node
        if fields.has("kiln_project") || fields.has("task_id") {
            for key in Self.inlineTaskKeys where fields.has(key) {
                reader.error(
                    at: fields.keyNode(key), "'\(key)' cannot be combined with a Kiln project task",
                    hint: "the task comes from the Kiln project; edit it there, or drop kiln_project and task_id")
            }
            return readKilnTask(fields, main: main)
        }
        guard fields.has("instruction") else {
            reader.error(
                at: node, "\(fields.context) is missing required key 'instruction'",
                hint: "say what the model should do, or reference a Kiln project with kiln_project and task_id")
            return nil
        }
        let instruction = reader.string(fields["instruction"], "instruction")
        let requirements = readRequirements(fields["requirements"], context: "a task requirement")
        let inputSchema = readSchema(fields["input_schema"], name: "input_schema")
        let outputSchema = readSchema(fields["output_schema"], name: "output_schema")
        guard let instruction else { return nil }
        return TaskDefinition(
            name: reader.string(fields["name"], "name"), instruction: instruction, requirements: requirements,
            systemPrompt: reader.string(fields["system_prompt"], "system_prompt"),
            thinkingInstruction: reader.string(fields["thinking_instruction"], "thinking_instruction"),
            inputSchema: inputSchema, outputSchema: outputSchema)
    }

    private mutating func readKilnTask(_ fields: Fields, main: Bool) -> TaskDefinition? {
        guard let projectNode = fields["kiln_project"] else {
            reader.error(
                at: fields.node, "the task has 'task_id' but no 'kiln_project'",
                hint: "add kiln_project: path/to/project.kiln")
            return nil
        }
        guard let idNode = fields["task_id"] else {
            reader.error(
                at: fields.node, "the task has 'kiln_project' but no 'task_id'",
                hint: "add task_id: the 12-digit id in the task's task.kiln")
            return nil
        }
        guard let project = reader.string(projectNode, "kiln_project"), let taskID = reader.string(idNode, "task_id"),
            let folder = kilnProject(project, at: projectNode)
        else { return nil }
        do {
            let taskFolder = try folder.task(id: taskID)
            if main { kilnTask = taskFolder }
            return try KilnTaskReader.definition(of: taskFolder, in: folder)
        } catch {
            reader.error(at: idNode, error.message, hint: error.hint)
            return nil
        }
    }

    /// Rubric items: a list of {name, instruction, type, priority}; names are unique and 'overall' is reserved.
    func readRequirements(_ node: Node?, context: String) -> [TaskRequirement] {
        guard let elements = reader.sequence(node, "requirements") else { return [] }
        var requirements: [TaskRequirement] = []
        var seen: [String: Node] = [:]
        for element in elements {
            guard
                let fields = reader.fields(
                    element, context: context, allowed: Self.requirementKeys, required: ["name", "instruction"])
            else { continue }
            guard let name = reader.string(fields["name"], "name"),
                let instruction = reader.string(fields["instruction"], "instruction")
            else { continue }
            let type: ScoreType? = reader.choice(fields["type"], "score type")
            let priority = reader.int(fields["priority"], "priority", in: 0...3)
            if name == "overall" {
                reader.error(
                    at: fields["name"], "'overall' is reserved for the overall score",
                    hint: "give the requirement a more specific name")
                continue
            }
            if let first = seen[name] {
                reader.error(
                    at: fields["name"], "duplicate requirement name '\(name)'",
                    hint:
                        "first used at line \(first.mark?.line ?? 0); scores are reported by name, so names "
                        + "must be unique"
                )
                continue
            }
            seen[name] = fields["name"]
            requirements.append(
                TaskRequirement(name: name, instruction: instruction, type: type ?? .fiveStar, priority: priority ?? 2))
        }
        return requirements
    }

    /// A JSON Schema given as a YAML mapping or as a JSON string (as Kiln stores it), linted before use.
    func readSchema(_ node: Node?, name: String, requireObject: Bool = true) -> JSONValue? {
        guard let node else { return nil }
        let schema: JSONValue
        switch node {
        case .mapping:
            schema = reader.json(node)
        case .scalar where !reader.isNull(node):
            guard let text = reader.text(node, name) else { return nil }
            do {
                schema = try JSONValue(parsing: text)
            } catch {
                reader.error(
                    at: node,
                    "'\(name)' is not valid JSON: \(error.message) (line \(error.line), column \(error.column) "
                        + "of the value)",
                    hint: "write the schema as YAML, or as one JSON object")
                return nil
            }
        default:
            reader.error(at: node, "expected a JSON Schema (a mapping) for '\(name)', got \(reader.describe(node))")
            return nil
        }
        let problems =
            requireObject ? JSONSchemaLint.problems(inTaskSchema: schema) : JSONSchemaLint.problems(in: schema)
        for problem in problems {
            if case .mapping = node {
                let target = reader.node(at: problem.path, in: node, keyOfLast: problem.atKey)
                reader.error(at: target, "invalid JSON Schema in '\(name)': \(problem.message)", hint: problem.hint)
            } else {
                let path = problem.path.map { component -> String in
                    switch component {
                    case .key(let key): "." + key
                    case .index(let index): "[\(index)]"
                    }
                }.joined()
                reader.error(
                    at: node,
                    "invalid JSON Schema in '\(name)' at \(path.isEmpty ? "the top level" : path): \(problem.message)",
                    hint: problem.hint)
            }
        }
        return problems.isEmpty ? schema : nil
    }
}
