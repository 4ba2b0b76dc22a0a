import KilnBasics
package import KilnModel

/// One JSONL line per example, in each of Kiln's dataset formats, byte for byte.
package enum ExportFormatter {
    package static func line(
        for example: TrainingExample, format: ExportFormat, system: String, strategy: ChatStrategy,
        thinkingInstructions: String?
    ) throws(ExportError) -> String {
        let messages = try TrainingChat.messages(
            for: example, system: system, strategy: strategy, thinkingInstructions: thinkingInstructions)
        let basic: [JSONValue] = messages.map(message)
        let document: JSONValue
        switch format {
        case .openAIChat:
            document = .object(JSONObject([("messages", .array(basic))]))
        case .openAIChatJSONSchema:
            let data = try structured(messages)
            document = .object(
                JSONObject([
                    (
                        "messages",
                        .array(basic.dropLast() + [message(role: "assistant", content: PythonJSON.dumps(data))])
                    )
                ]))
        case .openAIChatToolCall:
            let data = try structured(messages)
            let call = JSONObject([
                ("id", .string("call_1")), ("type", .string("function")),
                (
                    "function",
                    .object(
                        JSONObject([("name", .string("task_response")), ("arguments", .string(PythonJSON.dumps(data)))])
                    )
                ),
            ])
            let last = JSONObject([
                ("role", .string("assistant")), ("content", .null), ("tool_calls", .array([.object(call)])),
            ])
            document = .object(JSONObject([("messages", .array(basic.dropLast() + [.object(last)]))]))
        case .huggingFaceChatTemplate:
            document = .object(JSONObject([("conversations", .array(basic))]))
        case .huggingFaceChatTemplateToolCall:
            let data = try structured(messages)
            // Kiln draws a random 9-character id; a hash of the example keeps rebuilds byte-identical.
            let id = String(SHA256.hex(PythonJSON.dumps(.array(basic))).prefix(9))
            let function = JSONObject([("name", .string("task_response")), ("id", .string(id)), ("arguments", data)])
            let last = JSONObject([
                ("role", .string("assistant")),
                (
                    "tool_calls",
                    .array([.object(JSONObject([("type", .string("function")), ("function", .object(function))]))])
                ),
            ])
            document = .object(JSONObject([("conversations", .array(basic.dropLast() + [.object(last)]))]))
        case .vertexGemini:
            document = vertex(messages)
        }
        return PythonJSON.dumps(document)
    }

    private static func message(_ message: TrainingMessage) -> JSONValue {
        self.message(role: message.role, content: message.content)
    }

    private static func message(role: String, content: String) -> JSONValue {
        .object(JSONObject([("role", .string(role)), ("content", .string(content))]))
    }

    /// The last message as a JSON object, or Kiln's error.
    private static func structured(_ messages: [TrainingMessage]) throws(ExportError) -> JSONValue {
        let content = messages.last?.content ?? ""
        let value: JSONValue
        do {
            value = try JSONValue(parsing: content)
        } catch {
            throw ExportError(
                message: "Last message is not JSON (structured), and this format expects structured data: \(error)")
        }
        guard value.objectValue != nil else {
            throw ExportError(
                message:
                    "Last message is not a JSON Dictionary (structured data), and this format expects structured_data.")
        }
        return value
    }

    /// Vertex Gemini: the first system message becomes `systemInstruction`; later system messages are dropped.
    private static func vertex(_ messages: [TrainingMessage]) -> JSONValue {
        var contents: [JSONValue] = []
        for message in messages.dropFirst() where message.role != "system" {
            let role = message.role == "assistant" ? "model" : "user"
            contents.append(
                .object(
                    JSONObject([
                        ("role", .string(role)),
                        ("parts", .array([.object(JSONObject([("text", .string(message.content))]))])),
                    ])))
        }
        let system = JSONObject([
            ("role", .string("system")),
            ("parts", .array([.object(JSONObject([("text", .string(messages.first?.content ?? ""))]))])),
        ])
        return .object(JSONObject([("systemInstruction", .object(system)), ("contents", .array(contents))]))
    }
}
