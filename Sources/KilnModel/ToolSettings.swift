package import KilnBasics

/// What an agent may call (`tools:` of an `outputs` stage or of a task offered as a tool): Kiln's built-in tools,
/// MCP servers, searches over index stages and other tasks of the pipeline, within `max_tool_calls` and `max_turns`.
package struct ToolSettings: Sendable, Hashable {
    /// Kiln ids of the built-in tools (`kiln_tool::add_numbers` …).
    package var builtIns: [String]
    /// MCP servers started over stdio or reached over streamable HTTP.
    package var mcpServers: [MCPServerSpec]
    /// Search tools over `index` stages of the pipeline (Kiln's RAG tool).
    package var searchTools: [SearchToolSpec]
    /// Tasks of the pipeline offered as tools (Kiln's `kiln_task::` tools: sub-agents).
    package var subTasks: [SubTaskSpec]
    /// At most this many tool calls per item (Kiln: 100); more fail the item.
    package var maxToolCalls: Int
    /// At most this many model turns per item; more fail the item.
    package var maxTurns: Int

    package static let defaultMaxToolCalls = 100
    package static let defaultMaxTurns = 25

    package init(
        builtIns: [String] = [], mcpServers: [MCPServerSpec] = [], searchTools: [SearchToolSpec] = [],
        subTasks: [SubTaskSpec] = [], maxToolCalls: Int = defaultMaxToolCalls, maxTurns: Int = defaultMaxTurns
    ) {
        self.builtIns = builtIns
        self.mcpServers = mcpServers
        self.searchTools = searchTools
        self.subTasks = subTasks
        self.maxToolCalls = maxToolCalls
        self.maxTurns = maxTurns
    }

    /// Whether there is any tool (the stage then runs Kiln's tool loop).
    package var isEmpty: Bool { builtIns.isEmpty && mcpServers.isEmpty && searchTools.isEmpty && subTasks.isEmpty }

    /// Every index stage searched, by these tools or by the tasks they call (each once).
    package var searchedIndexes: [String] {
        Self.firstOfEach(searchTools.map(\.index) + subTasks.flatMap(\.tools.searchedIndexes)) { $0 }
    }

    /// Every MCP server of these tools and of the tasks they call, by name (the first of a name).
    package var allMCPServers: [MCPServerSpec] {
        Self.firstOfEach(mcpServers + subTasks.flatMap(\.tools.allMCPServers), by: \.name)
    }

    /// Every search tool of these tools and of the tasks they call.
    package var allSearchTools: [SearchToolSpec] { searchTools + subTasks.flatMap(\.tools.allSearchTools) }

    /// Every task these tools call, directly or through other tasks, by name (each once).
    package var allSubTasks: [SubTaskSpec] {
        Self.firstOfEach(subTasks + subTasks.flatMap(\.tools.allSubTasks), by: \.name)
    }

    /// `values` in order, without those whose key an earlier one had.
    private static func firstOfEach<Value>(_ values: [Value], by key: (Value) -> String) -> [Value] {
        var seen: Set<String> = []
        return values.filter { seen.insert(key($0)).inserted }
    }
}

/// A task of the pipeline offered as a tool (`tasks:` at the top of the file, `tools: [{task: name}]`): Kiln's
/// `kiln_task::` tool. The calling model sends the task's input (its input schema's fields, or one `input` string)
/// and gets the task's output; the task runs on its own model, with its own prompt and tools.
package struct SubTaskSpec: Sendable, Hashable {
    /// The function name the calling model sees (snake_case, as Kiln's tool names) and the key under `tasks:`.
    package var name: String
    /// What the calling model is told the tool does (Kiln: at most 128 characters).
    package var description: String
    package var task: TaskDefinition
    /// The provider that runs it.
    package var model: String
    /// Its own tools.
    package var tools: ToolSettings

    package init(name: String, description: String, task: TaskDefinition, model: String, tools: ToolSettings) {
        self.name = name
        self.description = description
        self.task = task
        self.model = model
        self.tools = tools
    }

    /// Kiln's id of the tool: a `kiln_task` tool server named after the task.
    package var kilnID: String { "kiln_task::\(name)" }

    /// The parameters the calling model fills: the task's input schema, or Kiln's one plaintext `input`.
    package var parameters: JSONValue {
        if let schema = task.inputSchema { return schema }
        let input = JSONObject([
            ("type", .string("string")), ("description", .string("Plaintext input for the tool.")),
        ])
        return .object(
            JSONObject([
                ("type", .string("object")), ("properties", .object(JSONObject([("input", .object(input))]))),
                ("required", .array([.string("input")])),
            ]))
    }
}

/// An MCP server for a stage's tools: started over stdio (`tools: [{mcp: {name, command, args, env, tools}}]`) or
/// reached over streamable HTTP (`{mcp: {name, url, headers, tools}}`).
package struct MCPServerSpec: Sendable, Hashable {
    /// Names the server in Kiln tool ids (`mcp::local::<name>::<tool>`, `mcp::remote::…`) and in messages.
    package var name: String
    package var command: String
    package var arguments: [String]
    package var environment: [String: String]
    /// The server's streamable HTTP endpoint (`http://127.0.0.1:8000/mcp`); nil for a server started over stdio.
    package var url: String? = nil
    /// Headers sent with every HTTP request (an `Authorization` read from the environment with `${VAR}`).
    package var headers: [String: String] = [:]
    /// The tools offered to the model; all the server lists when empty.
    package var tools: [String]

    package init(
        name: String, command: String, arguments: [String] = [], environment: [String: String] = [:],
        tools: [String] = []
    ) {
        self.name = name
        self.command = command
        self.arguments = arguments
        self.environment = environment
        self.tools = tools
    }

    /// Kiln's id of one of this server's tools.
    package func kilnID(of tool: String) -> String { "mcp::\(url == nil ? "local" : "remote")::\(name)::\(tool)" }
}

/// A search tool over an `index` stage of the same pipeline (`tools: [{search: {index, name, description, k}}]`):
/// Kiln's RAG tool, which takes a `query` and answers with the top `k` chunks in Kiln's layout.
package struct SearchToolSpec: Sendable, Hashable {
    /// The index stage searched; the stage with this tool waits for it to finish.
    package var index: String
    /// The function name the model sees (Kiln's `tool_name`: snake_case).
    package var name: String
    /// What the model is told the tool is for (Kiln's `tool_description`, at most 128 characters).
    package var description: String
    /// Chunks per search (Kiln's top_k).
    package var k: Int
    /// The id of a RAG config of a Kiln project the runs name instead of one kiln-pipe writes (`kiln_rag_config:`):
    /// Kiln then reruns the runs with its own search over its own documents. Name, description and k are that
    /// config's.
    package var kilnRagConfig: String? = nil

    package static let defaultName = "search_documents"
    package static let defaultDescription = "Search the documents for passages relevant to a query."
    package static let defaultK = 5

    package init(
        index: String, name: String = defaultName, description: String = defaultDescription, k: Int = defaultK
    ) {
        self.index = index
        self.name = name
        self.description = description
        self.k = k
    }

    /// Kiln's id of the tool: the Kiln RAG config it names, else one named after the index stage.
    package var kilnID: String { "kiln_tool::rag::\(kilnRagConfig ?? index)" }
}

/// The tools kiln-pipe runs itself, by Kiln tool id, and the short names a pipeline may use for them.
package enum BuiltInTools {
    /// Kiln 1.2.0's built-in math tools: id -> the function name the model sees.
    package static let math: [(id: String, name: String)] = [
        ("kiln_tool::add_numbers", "add"), ("kiln_tool::subtract_numbers", "subtract"),
        ("kiln_tool::multiply_numbers", "multiply"), ("kiln_tool::divide_numbers", "divide"),
    ]

    /// The Kiln tool ids a `tools:` entry stands for (`math` is all four), or nil when it names none.
    package static func ids(for entry: String) -> [String]? {
        if entry == "math" { return math.map(\.id) }
        return math.first { $0.id == entry || $0.name == entry }.map { [$0.id] }
    }

    /// What a `tools:` entry may be, for messages.
    package static let accepted =
        "math (all four), add, subtract, multiply, divide, or their Kiln ids (kiln_tool::add_numbers …)"
}
