import KilnBasics
import KilnModel

/// kiln-pipe's own prompts for synthetic data generation, following Kiln's approach: the generator sees the
/// task, the topic path from the root, what already exists (so it does not repeat it) and the user's guidance,
/// and answers with a JSON object. Each template has a version that is part of every cache key it produces.
enum GenerationPrompts {
    static let topicsVersion = "topics/v1"
    static let inputsVersion = "inputs/v1"

    static let topicsSystem = """
        You help build a synthetic dataset for a task. You propose subtopics of a topic so that together they \
        cover it well: diverse, specific, not overlapping, each a short phrase of a few words.
        """

    static let inputsSystem = """
        You help build a synthetic dataset for a task. You write realistic inputs a user of the task would send: \
        varied in wording, length, tone and difficulty, each complete on its own, never the answer.
        """

    static func topicsUser(
        task: TaskDefinition, path: [String], count: Int, existing: [String], guidance: String?
    )
        -> String
    {
        var text = """
            The task the data is for:
            <task>
            \(task.instruction)
            </task>

            Propose \(count) subtopics of the last topic in this path; each must fit inside it.
            <topic_path>
            \(path.joined(separator: " > "))
            </topic_path>
            """
        if !existing.isEmpty {
            text += "\n\nThe topic already has these subtopics; do not repeat them or propose near-duplicates:\n"
            text += existing.map { "- \($0)" }.joined(separator: "\n")
        }
        if let guidance {
            text += "\n\nFollow this guidance from the dataset's author:\n<guidance>\n\(guidance)\n</guidance>"
        }
        text += "\n\nAnswer with a JSON object {\"subtopics\": [...]} holding exactly \(count) strings."
        return text
    }

    static func topicsSchema(count: Int) -> JSONValue {
        .object(
            JSONObject([
                ("type", .string("object")),
                (
                    "properties",
                    .object(
                        JSONObject([
                            (
                                "subtopics",
                                .object(
                                    JSONObject([
                                        ("type", .string("array")),
                                        ("items", .object(JSONObject([("type", .string("string"))]))),
                                        ("minItems", .integer(count)), ("maxItems", .integer(count)),
                                    ]))
                            )
                        ]))
                ),
                ("required", .array([.string("subtopics")])),
            ]))
    }

    static func inputsUser(task: TaskDefinition, path: [String], count: Int, guidance: String?) -> String {
        var text = """
            The task:
            <task>
            \(task.instruction)
            </task>

            Write \(count) different inputs for this task about the topic below.
            <topic_path>
            \(path.joined(separator: " > "))
            </topic_path>
            """
        if let schema = task.inputSchema {
            text += "\n\nEach input is a JSON object that conforms to this JSON Schema:\n\(schema.serialized())"
        }
        if let guidance {
            text += "\n\nFollow this guidance from the dataset's author:\n<guidance>\n\(guidance)\n</guidance>"
        }
        text += "\n\nAnswer with a JSON object {\"generated_samples\": [...]} holding exactly \(count) inputs."
        return text
    }

    static func inputsSchema(count: Int, inputSchema: JSONValue?) -> JSONValue {
        let item = inputSchema ?? .object(JSONObject([("type", .string("string")), ("minLength", .integer(1))]))
        let samples = JSONObject([
            ("type", .string("array")), ("items", item), ("minItems", .integer(count)), ("maxItems", .integer(count)),
        ])
        return .object(
            JSONObject([
                ("type", .string("object")),
                ("properties", .object(JSONObject([("generated_samples", .object(samples))]))),
                ("required", .array([.string("generated_samples")])),
            ]))
    }
}
