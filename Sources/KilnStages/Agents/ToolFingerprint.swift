import KilnBasics
import KilnModel
import KilnStore

/// What an agent's tools contribute to its cache key: everything that can change what the tools answer (the
/// built-ins, each MCP server's name, command or URL and tool list, each search's settings and its index's
/// content, each task offered as a tool with its prompt, model and own tools) and the loop's limits.
struct ToolFingerprint {
    /// Provider configs as written in the pipeline, for the models of tasks offered as tools.
    let declared: [String: ProviderConfig]
    /// Index stage id -> what its index holds (`IndexSearcher.fingerprint`).
    let indexFingerprints: [String: String]

    /// The components tools add to a stage's or task's key (a stage without tasks keeps the keys it always had).
    func components(of tools: ToolSettings) -> JSONObject {
        var components = JSONObject()
        components["tools"] = .array(tools.builtIns.map(JSONValue.string))
        components["mcp_servers"] = .array(
            tools.mcpServers.map { server in
                var object = JSONObject([
                    ("name", .string(server.name)), ("command", .string(server.command)),
                    ("args", .array(server.arguments.map(JSONValue.string))),
                    ("tools", .array(server.tools.map(JSONValue.string))),
                ])
                // A server over HTTP is its URL (its headers, credentials, are not part of the key).
                if let url = server.url { object["url"] = .string(url) }
                return .object(object)
            })
        // A search's answers are the index's: a rebuilt index (other documents or chunking) asks again.
        if !tools.searchTools.isEmpty {
            components["search_tools"] = .array(
                tools.searchTools.map { search in
                    var object = JSONObject([
                        ("index", .string(search.index)), ("name", .string(search.name)),
                        ("description", .string(search.description)), ("k", .integer(search.k)),
                        ("content", .string(indexFingerprints[search.index] ?? "")),
                    ])
                    // The Kiln RAG config the runs name is in their tool ids.
                    if let config = search.kilnRagConfig { object["kiln_rag_config"] = .string(config) }
                    return .object(object)
                })
        }
        if !tools.subTasks.isEmpty {
            components["sub_tasks"] = .array(tools.subTasks.map { .string(key(of: $0)) })
        }
        components["max_tool_calls"] = .integer(tools.maxToolCalls)
        components["max_turns"] = .integer(tools.maxTurns)
        return components
    }

    /// A task offered as a tool: its name and description (what the caller sees), its prompt, schemas and model,
    /// and its own tools.
    func key(of task: SubTaskSpec) -> String {
        var components = JSONObject()
        components["prompt_version"] = .string(TaskPrompt.version)
        components["validator_version"] = .string(AnswerValidation.version)
        components["name"] = .string(task.name)
        components["description"] = .string(task.description)
        components["system"] = .string(TaskPrompt.systemMessage(for: task.task))
        components["input_schema"] = task.task.inputSchema ?? .null
        components["output_schema"] = task.task.outputSchema ?? .null
        components["model"] = ModelFingerprint.json(declared[task.model])
        if !task.tools.isEmpty { components["tools"] = .object(self.components(of: task.tools)) }
        return CheckpointKey.make(components)
    }
}
