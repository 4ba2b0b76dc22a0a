import KilnBasics

/// How generated items are deduplicated.
package enum DedupMode: String, Sendable, Hashable, CaseIterable {
    case none
    /// Byte-identical text counts as a duplicate.
    case exact
    /// Equal after Unicode normalisation, case folding and whitespace collapsing.
    case normalized
}

/// Quality filters shared by the generation stages.
package struct QualityFilters: Sendable, Hashable {
    package var dedup: DedupMode = .none
    package var minChars: Int?
    package var maxChars: Int?

    package init(dedup: DedupMode = .none, minChars: Int? = nil, maxChars: Int? = nil) {
        self.dedup = dedup
        self.minChars = minChars
        self.maxChars = maxChars
    }
}

/// Which nodes of the topic tree flow on as items.
package enum TopicEmit: String, Sendable, Hashable, CaseIterable {
    case leaves
    case all
}

/// `topics`: a topic tree generated node by node.
package struct TopicsSettings: Sendable, Hashable {
    package var provider: String
    /// The root topic; the task's instruction when nil.
    package var root: String?
    package var depth: Int
    package var breadth: Int
    /// Existing children of the root, kept and never generated again.
    package var seedTopics: [String]
    package var guidance: String?
    package var emit: TopicEmit

    package init(
        provider: String, root: String? = nil, depth: Int = 2, breadth: Int = 6, seedTopics: [String] = [],
        guidance: String? = nil, emit: TopicEmit = .leaves
    ) {
        self.provider = provider
        self.root = root
        self.depth = depth
        self.breadth = breadth
        self.seedTopics = seedTopics
        self.guidance = guidance
        self.emit = emit
    }
}

/// `inputs`: model inputs generated per topic path.
package struct InputsSettings: Sendable, Hashable {
    package var provider: String
    package var perTopic: Int
    package var guidance: String?
    package var filters: QualityFilters

    package init(provider: String, perTopic: Int = 8, guidance: String? = nil, filters: QualityFilters = .init()) {
        self.provider = provider
        self.perTopic = perTopic
        self.guidance = guidance
        self.filters = filters
    }
}

/// `outputs`: the task run on every input by one or more models.
package struct OutputsSettings: Sendable, Hashable {
    /// Provider names; each is one model under test and runs on every input.
    package var models: [String]
    /// Samples per input and model; each sample is its own cache entry.
    package var samples: Int
    /// Ask for chain of thought before the answer; nil means "when the task has a thinking instruction".
    package var thinking: Bool?
    package var filters: QualityFilters
    /// Tools the model may call (Kiln tool ids, e.g. `kiln_tool::add_numbers`): the stage then runs Kiln's tool
    /// loop — the model's tool calls are run and their results sent back until it answers.
    package var tools: [String]
    /// At most this many tool calls per item (Kiln: 100); more fail the item.
    package var maxToolCalls: Int
    /// At most this many model turns per item; more fail the item.
    package var maxTurns: Int
    /// MCP servers kiln-pipe starts over stdio, whose tools the model may call too.
    package var mcpServers: [MCPServerSpec] = []
    /// Search tools over `index` stages of the pipeline (Kiln's RAG tool).
    package var searchTools: [SearchToolSpec] = []

    /// Named system prompts to compare (`prompts:`); empty: the task's own prompt only.
    package var prompts: [PromptVariant] = []
    /// Named parameter sets to compare (`params:`); empty: each provider's own parameters only.
    package var params: [ParamsVariant] = []

    /// Whether the stage runs Kiln's tool loop.
    package var hasTools: Bool { !tools.isEmpty || !mcpServers.isEmpty || !searchTools.isEmpty }

    /// Whether the stage expands to a matrix of variants (prompts × models × params): its items then carry
    /// `variant`, and judges, reports and comparisons group by it.
    package var hasVariants: Bool { !prompts.isEmpty || !params.isEmpty }

    /// Answers per input: one per prompt, model, parameter set and sample.
    package var unitsPerInput: Int { max(1, prompts.count) * models.count * max(1, params.count) * samples }

    package static let defaultMaxToolCalls = 100
    package static let defaultMaxTurns = 25

    package init(
        models: [String], samples: Int = 1, thinking: Bool? = nil, filters: QualityFilters = .init(),
        tools: [String] = [], maxToolCalls: Int = defaultMaxToolCalls, maxTurns: Int = defaultMaxTurns
    ) {
        self.models = models
        self.samples = samples
        self.thinking = thinking
        self.filters = filters
        self.tools = tools
        self.maxToolCalls = maxToolCalls
        self.maxTurns = maxTurns
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

    /// Kiln's id of the tool: a RAG config named after the index stage.
    package var kilnID: String { "kiln_tool::rag::\(index)" }
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

/// One system prompt of an `outputs` stage's matrix.
package struct PromptVariant: Sendable, Hashable {
    package var name: String
    /// The system message; nil: the task's own prompt (instruction and requirements).
    package var systemPrompt: String?
    /// The Kiln saved prompt it was read from (`id::…`), when it was.
    package var kilnPromptID: String?

    package init(name: String, systemPrompt: String?, kilnPromptID: String? = nil) {
        self.name = name
        self.systemPrompt = systemPrompt
        self.kilnPromptID = kilnPromptID
    }
}

/// One parameter set of an `outputs` stage's matrix: what it sets overrides the provider's own.
package struct ParamsVariant: Sendable, Hashable {
    package var name: String
    package var params: ModelParams

    package init(name: String, params: ModelParams) {
        self.name = name
        self.params = params
    }

    /// `temperature=0.7,max_tokens=300`: the name of a parameter set given as a list item.
    package static func name(of params: ModelParams) -> String {
        var parts: [String] = []
        if let value = params.temperature { parts.append("temperature=\(value.compactDescription)") }
        if let value = params.maxTokens { parts.append("max_tokens=\(value)") }
        if let value = params.topP { parts.append("top_p=\(value.compactDescription)") }
        if let value = params.seed { parts.append("seed=\(value)") }
        return parts.isEmpty ? "provider" : parts.joined(separator: ",")
    }
}
