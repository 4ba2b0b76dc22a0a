package import KilnBasics

/// How an output is rated, as in Kiln's `TaskOutputRatingType`.
package enum ScoreType: String, Sendable, Hashable, CaseIterable {
    /// 1 to 5 stars.
    case fiveStar = "five_star"
    /// 1 pass, 0 fail.
    case passFail = "pass_fail"
    /// 1 pass, 0 fail, -1 critical failure.
    case passFailCritical = "pass_fail_critical"
}

/// A named rubric item the output must respect (Kiln `TaskRequirement`).
package struct TaskRequirement: Sendable, Hashable {
    package var name: String
    package var instruction: String
    package var type: ScoreType
    /// Kiln priority: 0 (highest) to 3; Kiln's default is 2.
    package var priority: Int

    package init(name: String, instruction: String, type: ScoreType = .fiveStar, priority: Int = 2) {
        self.name = name
        self.instruction = instruction
        self.type = type
        self.priority = priority
    }
}

/// Where a task definition came from.
package enum TaskOrigin: Sendable, Hashable {
    case inline
    /// Read from a Kiln project folder.
    case kilnProject(path: String, taskID: String)
}

/// What the model is asked to do: the task every generation and judge stage works for.
package struct TaskDefinition: Sendable, Hashable {
    package var name: String?
    package var instruction: String
    package var requirements: [TaskRequirement]
    /// Replaces the system prompt built from instruction and requirements when set.
    package var systemPrompt: String?
    package var thinkingInstruction: String?
    /// JSON Schema of structured inputs; nil for plain-text input.
    package var inputSchema: JSONValue?
    /// JSON Schema of structured outputs; nil for plain-text output.
    package var outputSchema: JSONValue?
    package var origin: TaskOrigin

    package init(
        name: String? = nil, instruction: String, requirements: [TaskRequirement] = [], systemPrompt: String? = nil,
        thinkingInstruction: String? = nil, inputSchema: JSONValue? = nil, outputSchema: JSONValue? = nil,
        origin: TaskOrigin = .inline
    ) {
        self.name = name
        self.instruction = instruction
        self.requirements = requirements
        self.systemPrompt = systemPrompt
        self.thinkingInstruction = thinkingInstruction
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.origin = origin
    }
}
