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

/// A combination of export settings that Kiln's fine-tune flows do not accept, and which setting it concerns.
package struct ExportSettingsProblem: Sendable, Hashable, Error {
    package enum Setting: String, Sendable, Hashable {
        case format, strategy, target
    }

    package var setting: Setting
    package var message: String
    package var hint: String
}

extension ExportSettings {
    /// Everything wrong with a format, strategy and target together, for a task with (or without) an output schema;
    /// `structuredTask` is nil when the task is not known. The `export` stage (checked by `validate`) and
    /// `kiln-pipe export` both refuse what this lists.
    package static func problems(
        format: ExportFormat?, strategy: ChatStrategy?, target: ExportTarget?, structuredTask: Bool?
    ) -> [ExportSettingsProblem] {
        var problems: [ExportSettingsProblem] = []
        if strategy == .finalAndIntermediate {
            problems.append(
                ExportSettingsProblem(
                    setting: .strategy,
                    message:
                        "strategy 'final_and_intermediate' is Kiln's legacy layout and is only read, never written",
                    hint: "use two_message_cot, or final_and_intermediate_r1_compatible for R1-style models"))
        }
        let effectiveFormat = format ?? target?.defaultFormat(structuredTask: structuredTask ?? false)
        if let target, let format, !target.acceptedFormats.contains(format) {
            let accepted = target.acceptedFormats.map(\.rawValue).joined(separator: " or ")
            problems.append(
                ExportSettingsProblem(
                    setting: .format, message: "\(target.rawValue) does not accept format '\(format.rawValue)'",
                    hint: "use \(accepted), or drop 'format' to use the target's"))
        }
        if let target, let strategy, strategy != .finalAndIntermediate, !target.acceptedStrategies.contains(strategy) {
            let accepted = target.acceptedStrategies.map(\.rawValue).joined(separator: " or ")
            problems.append(
                ExportSettingsProblem(
                    setting: .strategy,
                    message: "\(target.rawValue) fine-tuning does not take strategy '\(strategy.rawValue)'",
                    hint: "use \(accepted), as Kiln's \(target.rawValue) flow does"))
        } else if strategy == .finalAndIntermediateR1Compatible, let effectiveFormat,
            effectiveFormat.isStructured || effectiveFormat == .vertexGemini
        {
            problems.append(
                ExportSettingsProblem(
                    setting: .strategy,
                    message:
                        "strategy 'final_and_intermediate_r1_compatible' cannot be used with "
                        + "'\(effectiveFormat.rawValue)'",
                    hint: "R1-style <think> text fits only openai_chat_jsonl or huggingface_chat_template_jsonl"))
        }
        if effectiveFormat?.isStructured == true, structuredTask == false {
            problems.append(
                ExportSettingsProblem(
                    setting: format == nil ? .target : .format,
                    message:
                        "format '\(effectiveFormat?.rawValue ?? "")' needs structured output, but the task has "
                        + "no output_schema",
                    hint: "use openai_chat_jsonl, or add output_schema to the task"))
        }
        return problems
    }
}
