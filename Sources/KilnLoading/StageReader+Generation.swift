import Foundation
import KilnBasics
import KilnModel
import KilnProject
import Yams

extension StageReader {
    static let promptKeys = ["system_prompt", "kiln_prompt"]
    static let paramsKeys = ["temperature", "max_tokens", "top_p", "seed"]
    static let searchToolKeys = ["index", "name", "description", "k", "kiln_rag_config", "kiln_project"]
    static let mcpServerKeys = ["name", "command", "args", "env", "url", "headers", "tools"]

    mutating func readTopics() -> TopicsSettings? {
        let provider = provider(require("provider", example: "my-provider"), "provider")
        let depth = reader.int(fields["depth"], "depth", in: 1...10)
        let breadth = reader.int(fields["breadth"], "breadth", in: 1...100)
        let seeds = reader.strings(fields["seed_topics"], "seed_topics") ?? []
        var seen: Set<String> = []
        for seed in seeds where !seen.insert(seed.value.lowercased()).inserted {
            reader.error(
                at: seed.node, "seed topic '\(seed.value)' is listed twice", hint: "each seed topic becomes one subtree"
            )
        }
        let emit: TopicEmit? = reader.choice(fields["emit"], "emit")
        guard let provider else { return nil }
        return TopicsSettings(
            provider: provider, root: reader.string(fields["root"], "root"), depth: depth ?? 2, breadth: breadth ?? 6,
            seedTopics: seeds.map(\.value), guidance: reader.string(fields["guidance"], "guidance"),
            emit: emit ?? .leaves)
    }

    mutating func readInputs() -> InputsSettings? {
        let provider = provider(require("provider", example: "my-provider"), "provider")
        let perTopic = reader.int(fields["per_topic"], "per_topic", in: 1...1000)
        let filters = qualityFilters()
        guard let provider, let filters else { return nil }
        return InputsSettings(
            provider: provider, perTopic: perTopic ?? 8, guidance: reader.string(fields["guidance"], "guidance"),
            filters: filters)
    }

    mutating func readOutputs() -> OutputsSettings? {
        let modelsNode = require("models", example: "[provider-a, provider-b]")
        let models = reader.strings(modelsNode, "models") ?? []
        var seen: Set<String> = []
        for model in models {
            if !seen.insert(model.value).inserted {
                reader.error(
                    at: model.node, "model '\(model.value)' is listed twice in 'models'",
                    hint: "to ask one model several times per input, use samples: N")
            }
            providerReferences.append((model.value, model.node))
        }
        if let modelsNode, case .sequence(let sequence) = modelsNode, sequence.isEmpty {
            reader.error(at: modelsNode, "'models' is empty", hint: "name at least one provider under test")
        }
        let samples = reader.int(fields["samples"], "samples", in: 1...1000)
        let thinking = reader.bool(fields["thinking"], "thinking")
        let filters = qualityFilters()
        let tools = readToolSettings()
        guard !models.isEmpty, let filters, let tools else { return nil }
        var settings = OutputsSettings(
            models: models.map(\.value), samples: samples ?? 1, thinking: thinking, filters: filters, tools: tools)
        settings.prompts = readPrompts()
        settings.params = readParams()
        return settings
    }

    /// `prompts:` — named system prompts, each a cell column of the matrix: text, `task` (the task's own prompt),
    /// `{system_prompt: …}` or `{kiln_prompt: ID}` (a saved prompt of the Kiln task).
    private func readPrompts() -> [PromptVariant] {
        guard let node = fields["prompts"] else { return [] }
        guard case .mapping(let mapping) = node, !mapping.isEmpty else {
            reader.error(
                at: node, "expected named prompts for 'prompts', got \(reader.describe(node))",
                hint: "write one name per prompt, e.g. prompts: {terse: \"Answer in one sentence.\", default: task}")
            return []
        }
        var prompts: [PromptVariant] = []
        for (keyNode, value) in reader.merged(mapping, context: "'prompts'") {
            guard let name = reader.string(keyNode, "prompt name") else { continue }
            if !Self.isVariantName(name) {
                reader.error(
                    at: keyNode, "prompt name '\(name.excerpt())' may not contain '/' or a line break",
                    hint: "variants are named prompt/model/params: give the prompt a plain name")
                continue
            }
            if case .scalar = value {
                guard let text = reader.string(value, "prompt '\(name)'") else { continue }
                prompts.append(PromptVariant(name: name, systemPrompt: text == "task" ? nil : text))
                continue
            }
            guard
                let entry = reader.fields(
                    value, context: "prompt '\(name)'", allowed: Self.promptKeys)
            else { continue }
            if let text = reader.string(entry["system_prompt"], "system_prompt") {
                prompts.append(PromptVariant(name: name, systemPrompt: text))
            } else if let idNode = entry["kiln_prompt"], let id = reader.string(idNode, "kiln_prompt") {
                if let prompt = kilnPrompt(id, at: idNode) {
                    prompts.append(PromptVariant(name: name, systemPrompt: prompt.text, kilnPromptID: prompt.id))
                }
            } else if case .mapping(let keys) = value, keys.isEmpty {
                reader.error(
                    at: value, "prompt '\(name)' has neither 'system_prompt' nor 'kiln_prompt'",
                    hint: "write the system prompt, or name a saved prompt of the Kiln task: {kiln_prompt: \"id::…\"}")
            }
        }
        return prompts
    }

    /// A saved prompt of the pipeline's Kiln task, by its id (`id::123456789012` or the bare id).
    private func kilnPrompt(_ id: String, at node: Node) -> (id: String, text: String)? {
        guard let folder = builder.kilnTask else {
            reader.error(
                at: node,
                "kiln_prompt reads a saved prompt of a Kiln task, but the pipeline's task is not from a Kiln "
                    + "project",
                hint: "set task: {kiln_project: path/to/project.kiln, task_id: …}, or write the prompt "
                    + "as system_prompt")
            return nil
        }
        let bare = id.hasPrefix("id::") ? String(id.dropFirst(4)) : id
        let saved = folder.savedPrompts()
        guard let record = saved.first(where: { $0["id"]?.stringValue == bare }),
            let text = record["prompt"]?.stringValue
        else {
            let known = saved.compactMap { prompt in
                prompt["id"]?.stringValue.map { "id::\($0) (\(prompt["name"]?.stringValue ?? ""))" }
            }
            reader.error(
                at: node, "the Kiln task '\(folder.name)' has no saved prompt '\(id)'",
                hint: known.isEmpty
                    ? "save a prompt in the Kiln app first"
                    : "its saved prompts are "
                        + known.joined(separator: ", "))
            return nil
        }
        return ("id::\(bare)", text)
    }

    /// `params:` — parameter sets, each a cell column of the matrix: a list (named by what they set) or a mapping
    /// of names to sets. What a set gives overrides the provider's own (temperature, max_tokens, top_p, seed).
    private func readParams() -> [ParamsVariant] {
        guard let node = fields["params"] else { return [] }
        var entries: [(name: String?, node: Node, keyNode: Node?)] = []
        switch node {
        case .sequence(let sequence): entries = sequence.map { (nil, $0, nil) }
        case .mapping(let mapping):
            entries = reader.merged(mapping, context: "'params'").map { key, value in
                (reader.string(key, "parameter set name"), value, key)
            }
        default: break
        }
        if entries.isEmpty {
            reader.error(
                at: node, "expected parameter sets for 'params', got \(reader.describe(node))",
                hint: "e.g. params: [{temperature: 0}, {temperature: 0.8, max_tokens: 300}]")
            return []
        }
        var variants: [ParamsVariant] = []
        for entry in entries {
            guard
                let fields = reader.fields(
                    entry.node, context: "a parameter set", allowed: Self.paramsKeys)
            else { continue }
            let params = ModelParams(
                temperature: reader.double(fields["temperature"], "temperature", in: 0...2),
                maxTokens: reader.int(fields["max_tokens"], "max_tokens", in: 1...10_000_000),
                topP: reader.double(fields["top_p"], "top_p", in: 0...1),
                seed: reader.int(fields["seed"], "seed"))
            let read = [params.temperature != nil, params.maxTokens != nil, params.topP != nil, params.seed != nil]
            // A value or a key that could not be read is already reported: the set is left out.
            guard read.filter({ $0 }).count == fields.entries.count else { continue }
            if case .mapping(let keys) = entry.node, keys.isEmpty {
                reader.error(
                    at: entry.node, "a parameter set in 'params' sets nothing",
                    hint: "give it temperature, max_tokens, top_p or seed, or remove it")
                continue
            }
            guard !fields.entries.isEmpty else { continue }
            let name = entry.name ?? ParamsVariant.name(of: params)
            if !Self.isVariantName(name) {
                reader.error(
                    at: entry.keyNode ?? entry.node, "parameter set name '\(name.excerpt())' may not contain '/'",
                    hint: "variants are named prompt/model/params: give the set a plain name")
                continue
            }
            if variants.contains(where: { $0.name == name }) {
                reader.error(
                    at: entry.node, "the parameter set '\(name)' is listed twice in 'params'",
                    hint: "each set is one column of the matrix: remove the copy")
                continue
            }
            variants.append(ParamsVariant(name: name, params: params))
        }
        return variants
    }

    /// Variant names are joined with `/`: their parts may not hold one.
    static func isVariantName(_ name: String) -> Bool { !name.contains("/") && !name.contains(where: \.isNewline) }

    /// `tools:`, `max_tool_calls` and `max_turns`: Kiln tool ids or their short names, MCP servers to start
    /// (`{mcp: {…}}`), search tools over an index stage (`{search: …}`) and tasks of the pipeline (`{task: name}`).
    mutating func readToolSettings() -> ToolSettings? {
        let maxToolCalls = reader.int(fields["max_tool_calls"], "max_tool_calls", in: 1...10_000)
        let maxTurns = reader.int(fields["max_turns"], "max_turns", in: 1...1000)
        guard let node = fields["tools"] else {
            return ToolSettings(
                maxToolCalls: maxToolCalls ?? ToolSettings.defaultMaxToolCalls,
                maxTurns: maxTurns ?? ToolSettings.defaultMaxTurns)
        }
        guard let elements = reader.sequence(node, "tools", acceptScalar: true) else { return nil }
        var entries: [(value: String, node: Node)] = []
        var servers: [MCPServerSpec] = []
        var searches: [SearchToolSpec] = []
        var searchNodes: [Node] = []
        var subTasks: [(spec: SubTaskSpec, node: Node)] = []
        var valid = true
        for element in elements {
            if case .mapping(let mapping) = element, mapping.keys.contains(where: { $0.string == "task" }) {
                guard let task = readSubTaskTool(element, existing: subTasks.map(\.spec)) else {
                    valid = false
                    continue
                }
                subTasks.append((task, element))
            } else if case .mapping(let mapping) = element, mapping.keys.contains(where: { $0.string == "search" }) {
                guard let search = readSearchTool(element, existing: searches) else {
                    valid = false
                    continue
                }
                searches.append(search)
                searchNodes.append(element)
            } else if case .mapping = element {
                guard let server = readMCPServer(element, existing: servers) else {
                    valid = false
                    continue
                }
                servers.append(server)
            } else if let text = reader.string(element, "tool") {
                entries.append((text, element))
            } else {
                valid = false
            }
        }
        var ids: [String] = []
        for entry in entries {
            guard let found = BuiltInTools.ids(for: entry.value) else {
                reader.error(
                    at: entry.node, "unknown tool '\(entry.value)'",
                    hint: "kiln-pipe runs Kiln's built-in tools: \(BuiltInTools.accepted); "
                        + "a search over an index stage is {search: <its stage id>}, an MCP server's tools come with "
                        + "{mcp: {name, command, args}}, a task of the pipeline with {task: <name under tasks:>}")
                valid = false
                continue
            }
            for id in found where !ids.contains(id) { ids.append(id) }
        }
        let builtInNames = BuiltInTools.math.filter { ids.contains($0.id) }.map(\.name)
        for (search, node) in zip(searches, searchNodes) where builtInNames.contains(search.name) {
            reader.error(
                at: node, "the search tool's name '\(search.name)' is the name of a built-in tool of \(label)",
                hint: "name it otherwise: {search: {index: \(search.index), name: <snake_case name>}}")
            valid = false
        }
        let searchNames = searches.map(\.name)
        for (task, node) in subTasks where builtInNames.contains(task.name) || searchNames.contains(task.name) {
            reader.error(
                at: node, "the task '\(task.name)' has the name of another tool of \(label)",
                hint: "the model tells tools apart by name: rename the task under 'tasks:' or the other tool")
            valid = false
        }
        guard valid else { return nil }
        return ToolSettings(
            builtIns: ids, mcpServers: servers, searchTools: searches, subTasks: subTasks.map(\.spec),
            maxToolCalls: maxToolCalls ?? ToolSettings.defaultMaxToolCalls,
            maxTurns: maxTurns ?? ToolSettings.defaultMaxTurns)
    }

    /// `{task: name}`: a task under the file's `tasks:`, offered as a tool (Kiln's kiln_task tool). Its search
    /// tools' index stages become this stage's references too (it waits for them).
    private mutating func readSubTaskTool(_ node: Node, existing: [SubTaskSpec]) -> SubTaskSpec? {
        guard let outer = reader.fields(node, context: "a tool of \(label)", allowed: ["task"], required: ["task"]),
            let nameNode = outer["task"], let name = reader.string(nameNode, "task")
        else { return nil }
        guard let task = builder.subTasks[name] else {
            let declared = builder.declaredSubTasks.sorted()
            if !builder.declaredSubTasks.contains(name) {
                reader.error(
                    at: nameNode, "unknown task '\(name)'",
                    hint: declared.isEmpty
                        ? "declare it under a top-level 'tasks:', e.g. tasks: {\(name): {instruction: …, model: …}}"
                        : NearMiss.hint(for: name, among: declared, listing: "tasks"))
            }
            return nil
        }
        if existing.contains(where: { $0.name == name }) {
            reader.error(at: nameNode, "task '\(name)' is listed twice in 'tools'")
            return nil
        }
        stageReferences += builder.subTaskStageReferences[name] ?? []
        return task
    }

    /// `{search: idx}` or `{search: {index, name, description, k}}`: Kiln's RAG tool over an index stage.
    private mutating func readSearchTool(_ node: Node, existing: [SearchToolSpec]) -> SearchToolSpec? {
        guard let outer = reader.fields(node, context: "a tool of \(label)", allowed: ["search"], required: ["search"]),
            let inner = outer["search"]
        else { return nil }
        var spec: SearchToolSpec
        var indexNode = inner
        if case .scalar = inner {
            guard let index = reader.string(inner, "search") else { return nil }
            spec = SearchToolSpec(index: index)
        } else {
            guard
                let fields = reader.fields(
                    inner, context: "a search tool of \(label)", allowed: Self.searchToolKeys,
                    required: ["index"]),
                let index = reader.string(fields["index"], "index")
            else { return nil }
            indexNode = fields["index"] ?? inner
            spec = SearchToolSpec(index: index)
            if let name = reader.string(fields["name"], "name") {
                if let problem = Self.kilnToolNameProblem(name) {
                    reader.error(
                        at: fields["name"], "search tool name '\(name)' \(problem)",
                        hint: "Kiln tool names are snake_case: lowercase letters, digits and single underscores, "
                            + "starting with a letter, e.g. search_manuals")
                    return nil
                }
                spec.name = name
            }
            if let description = reader.string(fields["description"], "description") {
                guard (1...128).contains(description.count) else {
                    reader.error(
                        at: fields["description"],
                        "the search tool's description is \(description.count) characters; Kiln allows 1 to 128",
                        hint: "say in one line what the documents hold, e.g. \"Search the product manuals.\"")
                    return nil
                }
                spec.description = description
            }
            if let k = reader.int(fields["k"], "k", in: 1...50) { spec.k = k }
            if fields.has("kiln_rag_config") || fields.has("kiln_project") {
                guard let linked = linkKilnRagConfig(fields, to: spec) else { return nil }
                spec = linked
            }
        }
        stageReferences.append((spec.index, indexNode, .index))
        if let other = existing.first(where: { $0.name == spec.name }) {
            reader.error(
                at: node,
                "two search tools of \(label) are named '\(spec.name)' (over '\(other.index)' and "
                    + "'\(spec.index)')",
                hint: "the model tells tools apart by name: give this one its own, "
                    + "{search: {index: \(spec.index), name: <snake_case name>}}")
            return nil
        }
        return spec
    }

    /// `kiln_rag_config: <id>` (with `kiln_project:` unless the task is read from that project): the runs name a
    /// RAG config of a Kiln project, whose tool name, description and top k the model is offered, so Kiln reruns
    /// them with its own search. The config must exist; name, description and k are not written beside it.
    private func linkKilnRagConfig(_ fields: Fields, to spec: SearchToolSpec) -> SearchToolSpec? {
        guard let idNode = fields["kiln_rag_config"], let id = reader.string(idNode, "kiln_rag_config") else {
            reader.error(
                at: fields.node, "'kiln_project' of a search tool goes with 'kiln_rag_config'",
                hint: "name the Kiln RAG config the runs should use: kiln_rag_config: <its id>")
            return nil
        }
        for key in ["name", "description", "k"] where fields.has(key) {
            reader.error(
                at: fields.keyNode(key), "'\(key)' comes from the Kiln RAG config '\(id)'",
                hint: "Kiln reruns the runs with its config's tool: drop '\(key)' here, or change it in Kiln")
            return nil
        }
        let project: KilnProjectFolder?
        if let projectNode = fields["kiln_project"] {
            guard let path = reader.string(projectNode, "kiln_project") else { return nil }
            project = builder.kilnProject(path, at: projectNode)
        } else if case .kilnProject(let path, _)? = builder.task?.origin {
            project = builder.kilnProject(path, at: idNode)
        } else {
            reader.error(
                at: idNode, "which Kiln project holds RAG config '\(id)'?",
                hint: "add kiln_project: path/to/project, or read the task from that project")
            return nil
        }
        guard let project else { return nil }
        let configs = project.ragConfigs()
        guard let config = configs.first(where: { $0["id"]?.stringValue == id }) else {
            let known = configs.compactMap { config in
                config["id"]?.stringValue.map { "\($0) (\(config["name"]?.stringValue ?? "?"))" }
            }
            reader.error(
                at: idNode, "the Kiln project \(project.displayPath) has no RAG config '\(id)'",
                hint: known.isEmpty
                    ? "create the RAG config in Kiln (Docs & Search) first"
                    : "its RAG configs: \(known.joined(separator: ", "))")
            return nil
        }
        var linked = spec
        linked.kilnRagConfig = id
        linked.name = config["tool_name"]?.stringValue ?? spec.name
        linked.description = config["tool_description"]?.stringValue ?? spec.description
        let store = project.vectorStoreConfigs().first {
            $0["id"]?.stringValue == config["vector_store_config_id"]?.stringValue
        }
        if let k = store?["properties"]?["similarity_top_k"]?.numberValue { linked.k = min(50, max(1, Int(k))) }
        return linked
    }

    /// Why Kiln would refuse `name` as a tool name (its `tool_name_validator`), or nil.
    static func kilnToolNameProblem(_ name: String) -> String? {
        let allowed = name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
        if !allowed { return "may hold only lowercase letters, digits and '_'" }
        if name.hasPrefix("_") || name.hasSuffix("_") { return "may not start or end with '_'" }
        if name.contains("__") { return "may not hold '__'" }
        if !(name.unicodeScalars.first.map { ("a"..."z").contains($0) } ?? false) {
            return "must start with a lowercase letter"
        }
        if name.count >= 64 { return "must be shorter than 64 characters" }
        if name == "skill" { return "is reserved by Kiln" }
        return nil
    }

    /// `{mcp: {name, command, args, env, tools}}`: a server started over stdio; `{mcp: {name, url, headers, tools}}`:
    /// one reached over streamable HTTP.
    private func readMCPServer(_ node: Node, existing: [MCPServerSpec]) -> MCPServerSpec? {
        guard let outer = reader.fields(node, context: "a tool of \(label)", allowed: ["mcp"], required: ["mcp"]),
            let inner = outer["mcp"],
            let fields = reader.fields(
                inner, context: "an MCP server of \(label)",
                allowed: Self.mcpServerKeys, required: ["name"]),
            let name = reader.string(fields["name"], "name")
        else { return nil }
        guard fields.has("command") != fields.has("url") else {
            reader.error(
                at: fields.node,
                fields.has("command")
                    ? "MCP server '\(name)' has both 'command' and 'url'"
                    : "MCP server '\(name)' needs 'command' (started over stdio) or 'url' (streamable HTTP)",
                hint: "for example {mcp: {name: \(name), command: python3, args: [server.py]}} or "
                    + "{mcp: {name: \(name), url: \"http://127.0.0.1:8000/mcp\"}}")
            return nil
        }
        for key in ["args", "env"] where fields.has("url") && fields.has(key) {
            reader.error(at: fields[key], "'\(key)' belongs to an MCP server started with 'command'")
            return nil
        }
        if fields.has("command"), let node = fields["headers"] {
            reader.error(at: node, "'headers' belongs to an MCP server reached by 'url'")
            return nil
        }
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            reader.error(
                at: fields["name"], "MCP server name '\(name)' may hold only letters, digits, '_' and '-'",
                hint: "it names the server in Kiln tool ids (mcp::local::<name>::<tool>)")
            return nil
        }
        if existing.contains(where: { $0.name == name }) {
            reader.error(at: fields["name"], "MCP server '\(name)' is listed twice in 'tools'")
            return nil
        }
        guard let environment = stringMapping(fields["env"], "env", of: "variable names to values"),
            let headers = stringMapping(fields["headers"], "headers", of: "header names to values")
        else { return nil }
        var spec = MCPServerSpec(
            name: name, command: "", arguments: (reader.strings(fields["args"], "args") ?? []).map(\.value),
            environment: environment, tools: (reader.strings(fields["tools"], "tools") ?? []).map(\.value))
        if let urlNode = fields["url"] {
            guard let url = reader.string(urlNode, "url") else { return nil }
            guard let parsed = URLComponents(string: url), ["http", "https"].contains(parsed.scheme ?? ""),
                parsed.host?.isEmpty == false
            else {
                reader.error(
                    at: urlNode, "'\(url)' is not an http(s) URL",
                    hint: "for example url: \"http://127.0.0.1:8000/mcp\"")
                return nil
            }
            spec.url = url
            spec.headers = headers
        } else {
            guard let command = reader.string(fields["command"], "command") else { return nil }
            spec.command = command
        }
        return spec
    }

    /// A mapping of strings (`env:`, `headers:`); empty when absent, nil after an error.
    private func stringMapping(_ node: Node?, _ key: String, of what: String) -> [String: String]? {
        guard let node else { return [:] }
        guard case .mapping(let mapping) = node else {
            reader.error(at: node, "expected a mapping of \(what) for '\(key)'")
            return nil
        }
        var values: [String: String] = [:]
        for (name, value) in mapping {
            guard let text = reader.string(name, key), let value = reader.text(value, text) else { return nil }
            values[text] = value
        }
        return values
    }

    func readLoad() -> LoadSettings? {
        let pathNode = fields["path"]
        let path = reader.string(pathNode, "path")
        let explicitFormat: LoadFormat? = reader.choice(fields["format"], "format")
        let kilnProject = reader.string(fields["kiln_project"], "kiln_project")
        let taskID = reader.string(fields["task_id"], "task_id")
        let filter = datasetFilter(fields["filter"])
        let onError: OnError? = reader.choice(fields["on_error"], "on_error")
        let limit = reader.int(fields["limit"], "limit", in: 1...Int.max)
        let encoding: TextEncoding? = fields["encoding"].flatMap { reader.choice($0, "encoding") }
        let mapping = readFieldMapping(fields["fields"])
        guard pathNode != nil || fields.has("kiln_project") else {
            reader.error(
                at: fields.node, "\(label) needs 'path' (a JSONL, CSV or JSON file, or a folder) or 'kiln_project'",
                hint: "for example path: datasets/golden.jsonl")
            return nil
        }
        if pathNode != nil, fields.has("kiln_project") {
            reader.error(
                at: fields.keyNode("kiln_project"), "\(label) has both 'path' and 'kiln_project'",
                hint: "read either a data file or a Kiln project's runs")
            return nil
        }
        if let kilnProject {
            builder.kilnProject(kilnProject, at: fields["kiln_project"])
            if taskID == nil, !fields.has("task_id"), !builder.isKilnTask {
                reader.error(
                    at: fields.node, "\(label) reads a Kiln project but has no 'task_id'",
                    hint: "add task_id: the 12-digit id in the task's task.kiln")
            }
            return LoadSettings(
                format: .kiln, kilnProject: kilnProject, taskID: taskID, filter: filter ?? .all, fields: mapping,
                onError: onError ?? .fail, limit: limit)
        }
        guard let path, builder.requireFile(path, at: pathNode, what: "input", directoryAllowed: true) else {
            return nil
        }
        let format = explicitFormat ?? inferredFormat(of: path, at: pathNode)
        guard let format else { return nil }
        if format == .kiln {
            reader.error(
                at: fields["format"], "format 'kiln' reads a Kiln project", hint: "use kiln_project: instead of path:")
            return nil
        }
        if builder.fileStatus(path).isDirectory != (format == .folder) {
            reader.error(
                at: pathNode,
                format == .folder
                    ? "'\(path)' is a file, but format 'folder' expects a folder" : "'\(path)' is a folder",
                hint: format == .folder
                    ? "use format: jsonl, csv or json for a single file" : "use format: folder to read every file in it"
            )
            return nil
        }
        let settings = LoadSettings(
            path: path, format: format, filter: filter ?? .all, fields: mapping, onError: onError ?? .fail,
            limit: limit,
            encoding: encoding ?? .auto)
        // A mapping to a column the file lacks would load rows without the field: named here, with the columns.
        if format != .folder, !mapping.isEmpty,
            let first = FirstRecord.of(builder.resolve(path), format: format, encoding: settings.encoding)
        {
            for (field, column) in settings.unmappedFields(in: first) {
                let (message, hint) = LoadSettings.unmappedMessage(field: field, column: column, file: path, row: first)
                reader.error(at: fields["fields"]?[field] ?? fields["fields"], message, hint: hint)
            }
        }
        return settings
    }

    private func inferredFormat(of path: String, at node: Node?) -> LoadFormat? {
        if builder.fileStatus(path).isDirectory { return .folder }
        let lowered = path.lowercased()
        if lowered.hasSuffix(".jsonl") || lowered.hasSuffix(".ndjson") { return .jsonl }
        if lowered.hasSuffix(".csv") { return .csv }
        if lowered.hasSuffix(".json") { return .json }
        reader.error(
            at: node, "cannot tell the format of '\(path)' from its extension",
            hint: "add format: jsonl, csv, json or folder")
        return nil
    }

    private func readFieldMapping(_ node: Node?) -> [String: String] {
        guard let node,
            let fields = reader.fields(node, context: "'fields' of \(label)", allowed: LoadSettings.fieldNames)
        else { return [:] }
        var mapping: [String: String] = [:]
        for (key, _, value) in fields.entries {
            if let source = reader.string(value, key) { mapping[key] = source }
        }
        return mapping
    }
}

extension PipelineBuilder {
    /// Whether the pipeline's task comes from a Kiln project (whose task id a `load` may default to).
    var isKilnTask: Bool {
        if case .kilnProject = task?.origin { return true }
        return false
    }
}
