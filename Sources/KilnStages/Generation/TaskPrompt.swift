package import KilnBasics
package import KilnModel

/// The prompts of the task itself, built as Kiln builds them, so fine-tune exports and runs agree.
package enum TaskPrompt {
    /// Part of every outputs cache key: editing these prompts recomputes exactly what they affect.
    package static let version = "outputs/v1"
    /// Kiln's default thinking instruction.
    package static let defaultThinkingInstruction = "Think step by step, explaining your reasoning."
    /// Kiln's second user turn of a two-message chain of thought.
    package static let finalAnswerRequest = "Considering the above, return a final result."

    /// Kiln's `simple_prompt_builder`: the instruction, then the numbered requirements; or the custom system prompt.
    package static func systemMessage(for task: TaskDefinition) -> String {
        if let systemPrompt = task.systemPrompt { return systemPrompt }
        var message = task.instruction
        if !task.requirements.isEmpty {
            message += "\n\nYour response should respect the following requirements:\n"
            for (index, requirement) in task.requirements.enumerated() {
                message += "\(index + 1)) \(requirement.instruction)\n"
            }
        }
        return message
    }

    /// The user message for an input: text as is, structured input as its JSON.
    package static func userMessage(for input: JSONValue) -> String {
        input.stringValue ?? input.serialized()
    }

    /// The first turn of Kiln's two-message chain of thought.
    package static func thinkingMessage(input: String, instruction: String) -> String {
        "The input is:\n<user_input>\n\(input)\n</user_input>\n\n\(instruction)"
    }
}
