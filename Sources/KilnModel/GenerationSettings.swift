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
    /// The tools the model may call: the stage then runs Kiln's tool loop (the model's tool calls are run and
    /// their results sent back until it answers).
    package var tools: ToolSettings

    /// Named system prompts to compare (`prompts:`); empty: the task's own prompt only.
    package var prompts: [PromptVariant] = []
    /// Named parameter sets to compare (`params:`); empty: each provider's own parameters only.
    package var params: [ParamsVariant] = []

    /// Whether the stage expands to a matrix of variants (prompts × models × params): its items then carry
    /// `variant`, and judges, reports and comparisons group by it.
    package var hasVariants: Bool { !prompts.isEmpty || !params.isEmpty }

    /// Answers per input: one per prompt, model, parameter set and sample.
    package var unitsPerInput: Int { max(1, prompts.count) * models.count * max(1, params.count) * samples }

    package init(
        models: [String], samples: Int = 1, thinking: Bool? = nil, filters: QualityFilters = .init(),
        tools: ToolSettings = ToolSettings()
    ) {
        self.models = models
        self.samples = samples
        self.thinking = thinking
        self.filters = filters
        self.tools = tools
    }
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
