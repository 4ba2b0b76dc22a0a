package import KilnBasics
package import KilnModel

/// One training example before formatting: what Kiln takes from a task run.
package struct TrainingExample: Sendable, Hashable {
    /// The user content: the run's input verbatim (structured input as its stored JSON text).
    package var input: String
    /// The final answer: the repaired output when there is one, else the output.
    package var final: String
    /// `reasoning`, else `chain_of_thought`.
    package var thinking: String?
    /// The run's `trace` (OpenAI messages): its tool calls and tool results go into the example.
    package var trace: JSONValue?
    /// The definitions of the tools the run could call (`{"type": "function", "function": {...}}`).
    package var tools: [JSONValue]

    package init(
        input: String, final: String, thinking: String?, trace: JSONValue? = nil, tools: [JSONValue] = []
    ) {
        self.input = input
        self.final = final
        self.thinking = thinking
        self.trace = trace
        self.tools = tools
    }
}

/// A chat message of a training example: plain, an assistant's tool calls, or a tool's result.
package struct TrainingMessage: Sendable, Hashable {
    package var role: String
    package var content: String
    /// An assistant message's tool calls, as the trace has them.
    package var toolCalls: JSONValue? = nil
    /// A tool result's call id, as the trace has it.
    package var toolCallID: JSONValue? = nil
}

/// Why an example cannot be exported, in Kiln's words.
package struct ExportError: Error, Sendable, Hashable, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}

/// Kiln's training chats per strategy (`build_training_chat`).
package enum TrainingChat {
    package static let thinkingRequired =
        "Thinking data is required when fine-tuning thinking models. Please ensure your fine-tuning dataset "
        + "contains reasoning or chain of thought output for every entry."
    package static let r1ThinkingRequired =
        "Thinking data is required when fine-tuning thinking models (R1, QwQ, etc). Please ensure your "
        + "fine-tuning dataset contains reasoning or chain of thought output for every entry."
    package static let r1NoInstructions =
        "Thinking instructions are not supported when fine-tuning thinking models (R1, QwQ, etc). Please "
        + "remove the thinking instructions."
    package static let finalRequest = "Considering the above, return a final result."
    package static let defaultThinkingInstructions = "Think step by step, explaining your reasoning."

    /// The chat: the first turn, then the trace's tool calls and results (Kiln inserts them right after the first
    /// turn, before any thinking), then the strategy's answer turns.
    package static func messages(
        for example: TrainingExample, system: String, strategy: ChatStrategy, thinkingInstructions: String?
    ) throws(ExportError) -> [TrainingMessage] {
        var messages = [TrainingMessage(role: "system", content: system)]
        let tools = try toolMessages(from: example.trace)
        switch strategy {
        case .finalOnly:
            messages.append(TrainingMessage(role: "user", content: example.input))
            messages += tools
            messages.append(TrainingMessage(role: "assistant", content: example.final))
        case .twoMessageCOT, .finalAndIntermediate:
            let instructions = thinkingInstructions ?? defaultThinkingInstructions
            if strategy == .finalAndIntermediate {
                messages.append(TrainingMessage(role: "user", content: example.input))
                messages.append(TrainingMessage(role: "system", content: instructions))
            } else if example.input.contains("<conversation_history>") {
                messages.append(TrainingMessage(role: "user", content: "\(example.input)\n\n\(instructions)"))
            } else {
                messages.append(
                    TrainingMessage(
                        role: "user",
                        content: "The input is:\n<user_input>\n\(example.input)\n</user_input>\n\n\(instructions)"))
            }
            messages += tools
            guard let thinking = example.thinking else { throw ExportError(message: thinkingRequired) }
            messages.append(TrainingMessage(role: "assistant", content: thinking))
            messages.append(TrainingMessage(role: "user", content: finalRequest))
            messages.append(TrainingMessage(role: "assistant", content: example.final))
        case .finalAndIntermediateR1Compatible:
            messages.append(TrainingMessage(role: "user", content: example.input))
            messages += tools
            if thinkingInstructions != nil { throw ExportError(message: r1NoInstructions) }
            // No thinking at all is Kiln's general message; blank thinking its R1 one.
            guard let thinking = example.thinking else { throw ExportError(message: thinkingRequired) }
            guard !thinking.allSatisfy(\.isWhitespace) else { throw ExportError(message: r1ThinkingRequired) }
            messages.append(
                TrainingMessage(role: "assistant", content: "<think>\n\(thinking)\n</think>\n\n\(example.final)"))
        }
        return messages
    }

    /// Kiln's `build_tool_call_messages`: from the trace, each assistant message with tool calls (its text: a
    /// string, or a list's text parts joined by line breaks, else empty) and each tool result; nothing else.
    static func toolMessages(from trace: JSONValue?) throws(ExportError) -> [TrainingMessage] {
        var messages: [TrainingMessage] = []
        for message in trace?.arrayValue ?? [] {
            switch message["role"]?.stringValue {
            case "assistant":
                guard let calls = message["tool_calls"], calls.arrayValue?.isEmpty == false else { continue }
                messages.append(
                    TrainingMessage(role: "assistant", content: text(of: message["content"]) ?? "", toolCalls: calls))
            case "tool":
                guard let id = message["tool_call_id"], id != .null else {
                    throw ExportError(message: "Tool call ID is required for tool response messages")
                }
                guard let content = message["content"], content != .null else {
                    throw ExportError(message: "Content is required for tool response messages")
                }
                messages.append(
                    TrainingMessage(
                        role: "tool", content: content.stringValue ?? PythonJSON.str(content), toolCallID: id))
            default:
                continue
            }
        }
        return messages
    }

    /// Kiln's `extract_text_from_content`.
    private static func text(of content: JSONValue?) -> String? {
        if let text = content?.stringValue { return text }
        let parts = (content?.arrayValue ?? []).compactMap { part in
            part["type"]?.stringValue == "text" ? part["text"]?.stringValue : nil
        }
        return parts.isEmpty ? nil : parts.joined(separator: "\n")
    }

    /// The thinking instructions Kiln passes: none for final_only and R1; else the custom ones, the task's, or
    /// the default.
    package static func thinkingInstructions(strategy: ChatStrategy, custom: String?, task: String?) -> String? {
        switch strategy {
        case .finalOnly, .finalAndIntermediateR1Compatible: nil
        case .twoMessageCOT, .finalAndIntermediate: custom ?? task ?? defaultThinkingInstructions
        }
    }
}
