/// Fine-tune file formats, named as Kiln's `DatasetFormat` values.
package enum ExportFormat: String, Sendable, Hashable, CaseIterable {
    case openAIChat = "openai_chat_jsonl"
    case openAIChatJSONSchema = "openai_chat_json_schema_jsonl"
    case openAIChatToolCall = "openai_chat_toolcall_jsonl"
    case huggingFaceChatTemplate = "huggingface_chat_template_jsonl"
    case huggingFaceChatTemplateToolCall = "huggingface_chat_template_toolcall_jsonl"
    case vertexGemini = "vertex_gemini"

    /// Formats whose final message must be a JSON object.
    package var isStructured: Bool {
        switch self {
        case .openAIChatJSONSchema, .openAIChatToolCall, .huggingFaceChatTemplateToolCall: true
        default: false
        }
    }
}

/// How chain of thought is laid out in training messages, named as Kiln's `ChatStrategy` values.
package enum ChatStrategy: String, Sendable, Hashable, CaseIterable {
    case finalOnly = "final_only"
    case twoMessageCOT = "two_message_cot"
    case finalAndIntermediateR1Compatible = "final_and_intermediate_r1_compatible"
    /// Read from old data only; never written.
    case finalAndIntermediate = "final_and_intermediate"

    /// The strategies an export may ask for.
    package static let exportable: [ChatStrategy] = [.finalOnly, .twoMessageCOT, .finalAndIntermediateR1Compatible]
}

/// Fine-tuning services whose format rules an export follows.
package enum ExportTarget: String, Sendable, Hashable, CaseIterable {
    case fireworks
    case together
    case vertex
    case openai

    /// The format the service's fine-tune flow uses for a task with or without an output schema.
    package func defaultFormat(structuredTask: Bool) -> ExportFormat {
        switch self {
        case .vertex: .vertexGemini
        case .fireworks, .together, .openai: structuredTask ? .openAIChatJSONSchema : .openAIChat
        }
    }

    /// Strategies the service's fine-tune flow offers (as Kiln's app does): Together and Vertex train on final
    /// answers or two-message chain of thought; Fireworks also takes R1-style thinking for reasoning models.
    package var acceptedStrategies: [ChatStrategy] {
        switch self {
        case .together, .vertex: [.finalOnly, .twoMessageCOT]
        case .fireworks, .openai: [.finalOnly, .twoMessageCOT, .finalAndIntermediateR1Compatible]
        }
    }

    /// Formats the service accepts.
    package var acceptedFormats: [ExportFormat] {
        switch self {
        case .vertex: [.vertexGemini]
        case .together: [.openAIChat, .openAIChatJSONSchema]
        case .fireworks: [.openAIChat, .openAIChatJSONSchema]
        case .openai: [.openAIChat, .openAIChatJSONSchema, .openAIChatToolCall]
        }
    }
}

/// `export`: fine-tune files (one per split part) or a Kiln project.
package struct ExportSettings: Sendable, Hashable {
    /// Nil means: the target's default format for this task.
    package var format: ExportFormat?
    package var strategy: ChatStrategy
    package var target: ExportTarget?
    /// Output file, or a folder when the input has several split parts; relative to the pipeline file.
    package var out: String?
    /// Split parts to write; all parts when empty.
    package var parts: [String]
    /// Overrides the system message built from the task.
    package var systemMessage: String?
    package var thinkingInstructions: String?
    /// Write results into this Kiln project (project.kiln path) instead of, or as well as, files.
    package var kilnProject: String?

    package init(
        format: ExportFormat? = nil, strategy: ChatStrategy = .finalOnly, target: ExportTarget? = nil,
        out: String? = nil, parts: [String] = [], systemMessage: String? = nil, thinkingInstructions: String? = nil,
        kilnProject: String? = nil
    ) {
        self.format = format
        self.strategy = strategy
        self.target = target
        self.out = out
        self.parts = parts
        self.systemMessage = systemMessage
        self.thinkingInstructions = thinkingInstructions
        self.kilnProject = kilnProject
    }
}
