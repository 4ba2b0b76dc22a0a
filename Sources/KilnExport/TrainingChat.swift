package import KilnModel

/// One training example before formatting: what Kiln takes from a task run.
package struct TrainingExample: Sendable, Hashable {
    /// The user content: the run's input verbatim (structured input as its stored JSON text).
    package var input: String
    /// The final answer: the repaired output when there is one, else the output.
    package var final: String
    /// `reasoning`, else `chain_of_thought`.
    package var thinking: String?

    package init(input: String, final: String, thinking: String?) {
        self.input = input
        self.final = final
        self.thinking = thinking
    }
}

/// A chat message of a training example.
package struct TrainingMessage: Sendable, Hashable {
    package var role: String
    package var content: String
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

    package static func messages(
        for example: TrainingExample, system: String, strategy: ChatStrategy, thinkingInstructions: String?
    ) throws(ExportError) -> [TrainingMessage] {
        var messages = [TrainingMessage(role: "system", content: system)]
        switch strategy {
        case .finalOnly:
            messages.append(TrainingMessage(role: "user", content: example.input))
            messages.append(TrainingMessage(role: "assistant", content: example.final))
        case .twoMessageCOT, .finalAndIntermediate:
            guard let thinking = example.thinking else { throw ExportError(message: thinkingRequired) }
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
            messages.append(TrainingMessage(role: "assistant", content: thinking))
            messages.append(TrainingMessage(role: "user", content: finalRequest))
            messages.append(TrainingMessage(role: "assistant", content: example.final))
        case .finalAndIntermediateR1Compatible:
            if thinkingInstructions != nil { throw ExportError(message: r1NoInstructions) }
            guard let thinking = example.thinking, !thinking.allSatisfy(\.isWhitespace) else {
                throw ExportError(message: r1ThinkingRequired)
            }
            messages.append(TrainingMessage(role: "user", content: example.input))
            messages.append(
                TrainingMessage(role: "assistant", content: "<think>\n\(thinking)\n</think>\n\n\(example.final)"))
        }
        return messages
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
