import Foundation
import KilnBasics
package import KilnModel

/// One JSONL line per example, in each of Kiln's dataset formats, byte for byte — tool calls and tool results
/// from the run's trace included, and the run's tool definitions where Kiln writes them.
package enum ExportFormatter {
    package static func line(
        for example: TrainingExample, format: ExportFormat, system: String, strategy: ChatStrategy,
        thinkingInstructions: String?
    ) throws(ExportError) -> String {
        let messages = try TrainingChat.messages(
            for: example, system: system, strategy: strategy, thinkingInstructions: thinkingInstructions)
        let basic: [JSONValue] = messages.map(message)
        // The OpenAI formats carry the tool definitions; Hugging Face's never; Vertex its own way.
        let tools: [(String, JSONValue)] = example.tools.isEmpty ? [] : [("tools", .array(example.tools))]
        let document: JSONValue
        switch format {
        case .openAIChat:
            document = .object(JSONObject([("messages", .array(basic))] + tools))
        case .openAIChatJSONSchema:
            let data = try structured(messages)
            document = .object(
                JSONObject(
                    [
                        (
                            "messages",
                            .array(basic.dropLast() + [message(role: "assistant", content: PythonJSON.dumps(data))])
                        )
                    ] + tools))
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
            document = .object(JSONObject([("messages", .array(basic.dropLast() + [.object(last)]))] + tools))
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
            document = try vertex(messages, tools: example.tools)
        }
        return PythonJSON.dumps(document)
    }

    /// Kiln's message dicts: `{role, content}`, with `tool_calls` for an assistant's calls (content `""` when it
    /// had no text) and `tool_call_id` for a tool's result.
    private static func message(_ message: TrainingMessage) -> JSONValue {
        var object = JSONObject([("role", .string(message.role)), ("content", .string(message.content))])
        if let calls = message.toolCalls { object["tool_calls"] = calls }
        if let id = message.toolCallID { object["tool_call_id"] = id }
        return .object(object)
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

    /// Vertex Gemini (Kiln's `generate_vertex_gemini`): the first system message becomes `systemInstruction`, later
    /// ones are dropped; an assistant's tool calls become `functionCall` parts (their text dropped), and the tool
    /// results that follow one another become one `functionResponse` entry; tools become `functionDeclarations`.
    private static func vertex(_ messages: [TrainingMessage], tools: [JSONValue]) throws(ExportError) -> JSONValue {
        var contents: [JSONValue] = []
        var responses: [JSONValue] = []
        var names: [String: String] = [:]
        func flush() {
            if !responses.isEmpty { contents.append(.object(JSONObject([("parts", .array(responses))]))) }
            responses = []
        }
        for message in messages.dropFirst() {
            switch message.role {
            case "user":
                flush()
                contents.append(
                    content(role: "user", parts: [.object(JSONObject([("text", .string(message.content))]))]))
            case "assistant":
                flush()
                guard let calls = message.toolCalls?.arrayValue else {
                    contents.append(
                        content(role: "model", parts: [.object(JSONObject([("text", .string(message.content))]))]))
                    continue
                }
                var parts: [JSONValue] = []
                for call in calls {
                    let arguments = try dictionary(call["function"]?["arguments"], what: "tool call arguments")
                    let name = call["function"]?["name"] ?? .null
                    if let id = call["id"]?.stringValue, let text = name.stringValue, !text.isEmpty { names[id] = text }
                    parts.append(
                        .object(
                            JSONObject([
                                ("functionCall", .object(JSONObject([("name", name), ("args", arguments)])))
                            ])))
                }
                contents.append(content(role: "model", parts: parts))
            case "tool":
                guard let name = message.toolCallID?.stringValue.flatMap({ names[$0] }) else {
                    let id = message.toolCallID.map { $0.stringValue ?? PythonJSON.str($0) } ?? "None"
                    throw ExportError(
                        message:
                            "Could not find function name for tool_call_id: \(id). Ensure tool messages have matching "
                            + "assistant tool calls in the trace.")
                }
                let response = JSONObject([("content", .string(message.content))])
                responses.append(
                    .object(
                        JSONObject([
                            (
                                "functionResponse",
                                .object(JSONObject([("name", .string(name)), ("response", .object(response))]))
                            )
                        ])))
            default:
                continue
            }
        }
        flush()
        let system = JSONObject([
            ("role", .string("system")),
            ("parts", .array([.object(JSONObject([("text", .string(messages.first?.content ?? ""))]))])),
        ])
        var document = JSONObject([("systemInstruction", .object(system)), ("contents", .array(contents))])
        if !tools.isEmpty {
            let declarations = try tools.map { tool throws(ExportError) -> JSONValue in
                let function = tool["function"]
                return .object(
                    JSONObject([
                        ("name", function?["name"] ?? .null), ("description", function?["description"] ?? .null),
                        ("parameters", try vertexTypes(function?["parameters"] ?? .null)),
                    ]))
            }
            document["tools"] = .array([.object(JSONObject([("functionDeclarations", .array(declarations))]))])
        }
        return .object(document)
    }

    private static func content(role: String, parts: [JSONValue]) -> JSONValue {
        .object(JSONObject([("role", .string(role)), ("parts", .array(parts))]))
    }

    /// Kiln's `validate_json_dictionary`: tool call arguments (JSON text) as an object.
    private static func dictionary(_ value: JSONValue?, what: String) throws(ExportError) -> JSONValue {
        guard let text = value?.stringValue else {
            throw ExportError(
                message:
                    "Invalid JSON: the JSON object must be str, bytes or bytearray, not \(pythonType(value ?? .null))")
        }
        let parsed: JSONValue
        do {
            parsed = try JSONValue(parsing: text)
        } catch {
            throw ExportError(message: "Invalid JSON: \(error)")
        }
        guard parsed.objectValue != nil else {
            throw ExportError(message: "\(what) must be a dictionary object, got <class '\(pythonType(parsed))'>")
        }
        return parsed
    }

    /// The name of the Python type `json.loads` gives for a value (`dict`, `list`, `NoneType`…).
    private static func pythonType(_ value: JSONValue) -> String {
        switch value {
        case .null: "NoneType"
        case .bool: "bool"
        case .integer: "int"
        case .double: "float"
        case .string: "str"
        case .array: "list"
        case .object: "dict"
        }
    }

    /// Kiln's `convert_schema_to_vertex_types`: every string `type` upper-cased (only JSON Schema's six).
    private static func vertexTypes(_ schema: JSONValue) throws(ExportError) -> JSONValue {
        let supported = ["string", "integer", "boolean", "number", "array", "object"]
        guard let object = schema.objectValue else { return schema }
        var result = JSONObject()
        for (key, value) in object {
            if key == "type", let type = value.stringValue {
                guard supported.contains(type.lowercased()) else {
                    throw ExportError(
                        message:
                            "Unsupported type '\(type)' in schema. Supported types: ['string', 'integer', 'boolean', "
                            + "'number', 'array', 'object']")
                }
                result[key] = .string(type.uppercased())
            } else if value.objectValue != nil {
                result[key] = try vertexTypes(value)
            } else if let elements = value.arrayValue {
                var converted: [JSONValue] = []
                for element in elements {
                    converted.append(element.objectValue != nil ? try vertexTypes(element) : element)
                }
                result[key] = .array(converted)
            } else {
                result[key] = value
            }
        }
        return .object(result)
    }
}
