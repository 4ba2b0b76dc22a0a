import KilnBasics
import KilnModel
import Yams

extension PipelineBuilder {
    /// What a task under `tasks:` holds besides its definition: how it runs when a model calls it as a tool.
    static let subTaskKeys = ["description", "model", "tools", "max_tool_calls", "max_turns"]

    /// `tasks:` — tasks of the pipeline that models call as tools (Kiln's kiln_task tools, sub-agents): each a task
    /// definition (inline or from a Kiln project) with its `model`, a `description` for the calling model and its
    /// own `tools`. Tasks that call each other are read callees first; a task that calls itself, directly or
    /// through others, is an error naming the loop.
    mutating func readSubTasks(_ node: Node?) {
        guard let node else { return }
        guard case .mapping(let mapping) = node else {
            reader.error(
                at: node, "expected a mapping of task names to tasks for 'tasks', got \(reader.describe(node))",
                hint: "for example tasks: {lookup: {instruction: Find the price., model: gpt}}")
            return
        }
        var bodies: [(name: String, keyNode: Node, value: Node)] = []
        for (key, value) in mapping {
            guard let name = key.string else { continue }
            if let problem = StageReader.kilnToolNameProblem(name) {
                reader.error(
                    at: key, "task name '\(name)' \(problem)",
                    hint: "the calling model sees the task as a function of this name; Kiln tool names are "
                        + "snake_case: lowercase letters, digits and single underscores, e.g. price_lookup")
                continue
            }
            declaredSubTasks.insert(name)
            bodies.append((name, key, value))
        }
        // Each task's calls of other tasks, read ahead so callees are read first.
        var calls: [String: [(name: String, node: Node)]] = [:]
        for body in bodies {
            guard case .mapping(let fields) = body.value, let tools = fields.first(where: { $0.key.string == "tools" })
            else { continue }
            guard case .sequence(let elements) = tools.value else { continue }
            calls[body.name] = elements.compactMap { element in
                guard case .mapping(let tool) = element, let callee = tool.first(where: { $0.key.string == "task" })
                else { return nil }
                return callee.value.string.map { ($0, callee.value) }
            }
        }
        var state: [String: Bool] = [:]  // false: being read, true: read
        func visit(_ name: String, path: [String]) {
            if state[name] == true { return }
            guard let body = bodies.first(where: { $0.name == name }) else { return }
            state[name] = false
            for callee in calls[name] ?? [] {
                if state[callee.name] == false {
                    let loop = (path + [name]).drop { $0 != callee.name } + [callee.name]
                    reader.error(
                        at: callee.node, "tasks call each other in a loop: \(loop.joined(separator: " -> "))",
                        hint: "a task offered as a tool cannot reach itself, or the calls would never end")
                    failedSubTasks.insert(name)
                    continue
                }
                visit(callee.name, path: path + [name])
            }
            state[name] = true
            guard !failedSubTasks.contains(name) else { return }
            if let task = readSubTask(name, body.value) {
                subTasks[name] = task.spec
                subTaskStageReferences[name] = task.references
            }
        }
        for body in bodies { visit(body.name, path: []) }
    }

    private mutating func readSubTask(
        _ name: String, _ node: Node
    ) -> (spec: SubTaskSpec, references: [(id: String, node: Node, type: StageType)])? {
        let context = "task '\(name)'"
        guard
            let fields = reader.fields(
                node, context: context, allowed: Self.inlineTaskKeys + Self.kilnTaskKeys + Self.subTaskKeys,
                required: ["model"])
        else { return nil }
        let definition = readTask(fields, main: false)
        var model: String?
        if let modelNode = fields["model"], let provider = reader.string(modelNode, "model") {
            if declaredProviders[provider] == nil {
                let names = declaredProviders.keys.sorted()
                reader.error(
                    at: modelNode, "\(context) uses unknown provider '\(provider)'",
                    hint: names.isEmpty
                        ? "declare it under 'providers:', e.g. \(provider): {kind: openai, model: gpt-4o-mini}"
                        : NearMiss.hint(for: provider, among: names, listing: "declared providers"))
            } else {
                model = provider
            }
        }
        var description = reader.string(fields["description"], "description")
        if fields["description"] == nil, let instruction = definition?.instruction {
            // Kiln asks for a description of at most 128 characters; a short instruction serves as one.
            if instruction.count <= 128 {
                description = instruction
            } else {
                reader.error(
                    at: fields.node, "\(context) needs a 'description': its instruction is too long to serve as one",
                    hint: "add description: one line of at most 128 characters saying what the task does for the "
                        + "model calling it")
            }
        }
        if let text = description, !(1...128).contains(text.count) {
            reader.error(
                at: fields["description"],
                "the description of \(context) is \(text.count) characters; Kiln allows "
                    + "1 to 128",
                hint: "say in one line what the task does for the model calling it")
            description = nil
        }
        var tools = StageReader(builder: self, fields: fields, label: context)
        let settings = tools.readToolSettings()
        guard let definition, let model, let description, let settings else { return nil }
        return (
            SubTaskSpec(name: name, description: description, task: definition, model: model, tools: settings),
            tools.stageReferences
        )
    }

    /// A task under `tasks:` that no stage offers (directly or through another task): a warning.
    func warnUnusedSubTasks(_ stages: [StageDraft], tasksNode: Node?) {
        guard case .mapping(let mapping)? = tasksNode else { return }
        var used: Set<String> = []
        for stage in stages {
            guard case .outputs(let settings)? = stage.settings else { continue }
            used.formUnion(settings.tools.allSubTasks.map(\.name))
        }
        for (key, _) in mapping {
            guard let name = key.string, subTasks[name] != nil, !used.contains(name) else { continue }
            reader.warning(
                at: key, "task '\(name)' is offered to no model",
                hint: "offer it on an outputs stage with tools: [{task: \(name)}]")
        }
    }
}
