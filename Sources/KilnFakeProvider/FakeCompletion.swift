import Foundation
import KilnBasics

/// The fake model's answer to one chat-completions request, derived only from the request's content.
struct FakeCompletion {
    let body: JSONValue
    let hash: String
    var breakSchema = false

    var json: JSONValue {
        let count = max(1, body["n"]?.numberValue.map { Int($0) } ?? 1)
        let choices = (0..<count).map { choice($0) }
        let promptCharacters = (body["messages"]?.arrayValue ?? []).reduce(0) {
            $0 + (Self.text(of: $1["content"]).count)
        }
        let completionCharacters = choices.reduce(0) { total, choice in
            total + (choice["message"]?["content"]?.stringValue?.count ?? 0)
                + (choice["message"]?["tool_calls"]?.serialized().count ?? 0)
        }
        var response = JSONObject()
        response["id"] = .string("chatcmpl-\(hash.prefix(24))")
        response["object"] = .string("chat.completion")
        response["created"] = .integer(1_700_000_000)
        response["model"] = body["model"] ?? .string("fake")
        response["choices"] = .array(choices)
        response["usage"] = .object(
            JSONObject([
                ("prompt_tokens", .integer(max(1, promptCharacters / 4))),
                ("completion_tokens", .integer(max(1, completionCharacters / 4))),
                ("total_tokens", .integer(max(1, promptCharacters / 4) + max(1, completionCharacters / 4))),
            ]))
        return .object(response)
    }

    private func choice(_ index: Int) -> JSONValue {
        var generator = SchemaValueGenerator(seed: "\(hash)#\(index)")
        var message = JSONObject()
        message["role"] = .string("assistant")
        var finishReason = "stop"
        if let tool = requestedTool {
            var arguments = generator.value(for: tool.parameters)
            if breakSchema { arguments = .object(JSONObject([("unexpected", .bool(true))])) }
            message["content"] = .null
            message["tool_calls"] = .array([
                .object(
                    JSONObject([
                        ("id", .string("call_\(hash.prefix(8))\(index)")), ("type", .string("function")),
                        (
                            "function",
                            .object(
                                JSONObject([
                                    ("name", .string(tool.name)), ("arguments", .string(arguments.serialized())),
                                ]))
                        ),
                    ]))
            ])
            finishReason = "tool_calls"
        } else if !breakSchema, let calls = agentToolCalls(index) {
            // An agent's first turn: the tools the question asks for (fake arithmetic: the numbers it names).
            message["content"] = .null
            message["tool_calls"] = .array(calls)
            finishReason = "tool_calls"
        } else if !breakSchema, let pairs = qnaPairs {
            message["content"] = .string(pairs.serialized())
        } else if let schema = requestedSchema {
            var value = breakSchema ? .object(JSONObject([("unexpected", .bool(true))])) : generator.value(for: schema)
            if !breakSchema, isDegraded { value = Self.apologizing(value) }
            // After tool results, an `answer` field holds the last one (a number when it reads as one).
            if !breakSchema, let result = lastToolResult, value["answer"] != nil, var object = value.objectValue {
                // A structured result (`{"result": "81.0"}`) gives its one value.
                let parsed = (try? JSONValue(parsing: result))?.objectValue
                let single = parsed.flatMap { object in object.count == 1 ? object.map(\.value).first : nil }
                let text = single.map { $0.stringValue ?? $0.serialized() } ?? result
                object["answer"] = Double(text).map(JSONValue.double) ?? .string(text)
                value = .object(object)
            }
            message["content"] = .string(value.serialized())
        } else if !breakSchema, let result = lastToolResult {
            message["content"] = .string("The answer is \(result).")
        } else if let image = lastUserImage {
            // A vision request: the fake "reads" the image as a line naming its content hash and size.
            message["content"] = .string(
                breakSchema
                    ? ""
                    : "Transcribed page \(SHA256.hex(image).prefix(8)): kiln glaze notes (\(image.count) "
                        + "characters of image data)"
            )
        } else if !breakSchema, isDegraded {
            message["content"] = .string(Self.apology)
        } else {
            let excerpt = lastUserText.split(whereSeparator: \.isWhitespace).prefix(12).joined(separator: " ")
            message["content"] = .string(
                breakSchema ? "" : "Fake answer \(hash.prefix(6))-\(index) to: \(excerpt)")
        }
        var choice = JSONObject()
        choice["index"] = .integer(index)
        choice["message"] = .object(message)
        choice["logprobs"] = body["logprobs"] == .bool(true) ? logprobs(for: message, generator: &generator) : .null
        choice["finish_reason"] = .string(finishReason)
        return .object(choice)
    }

    /// Token logprobs in OpenAI's chat shape: the tokens concatenate to the answer (spaces kept), and the chosen
    /// token and its alternatives are one probability distribution (they sum to less than 1).
    private func logprobs(for message: JSONObject, generator: inout SchemaValueGenerator) -> JSONValue {
        let text = message["content"]?.stringValue ?? ""
        let alternatives = max(0, body["top_logprobs"]?.numberValue.map { Int($0) } ?? 0)
        var tokens: [JSONValue] = []
        for token in FakeTokenizer.pieces(text) {
            // The chosen token has 50–99 %; each alternative half of what the one before it left.
            let probability = Double(50 + generator.pick(50)) / 100
            var top: [JSONValue] = []
            if alternatives > 0 {
                top.append(Self.logprobEntry(token, log(probability)))
                let space = String(token.prefix { $0.isWhitespace })
                let word = token.dropFirst(space.count)
                for alternative in 1..<max(alternatives, 1) {
                    let other =
                        word.allSatisfy(\.isNumber) ? String((Int(word) ?? 0) + alternative) : "\(word)_\(alternative)"
                    let share = (1 - probability) * pow(0.5, Double(alternative))
                    top.append(Self.logprobEntry(space + other, log(share)))
                }
            }
            var entry = Self.logprobEntry(token, log(probability)).objectValue ?? JSONObject()
            entry["top_logprobs"] = .array(top)
            tokens.append(.object(entry))
        }
        return .object(JSONObject([("content", .array(tokens))]))
    }

    private static func logprobEntry(_ token: String, _ logprob: Double) -> JSONValue {
        .object(
            JSONObject([
                ("token", .string(token)), ("logprob", .double(logprob)),
                ("bytes", .array(token.utf8.map { .integer(Int($0)) })),
            ]))
    }

    /// The function the request forces (`tool_choice` names it, or is "required" with one tool).
    private var requestedTool: (name: String, parameters: JSONValue)? {
        guard let tools = body["tools"]?.arrayValue, !tools.isEmpty else { return nil }
        let forced = body["tool_choice"]?["function"]?["name"]?.stringValue
        let required = body["tool_choice"]?.stringValue == "required"
        guard forced != nil || required else { return nil }
        let tool = tools.first { $0["function"]?["name"]?.stringValue == forced } ?? tools[0]
        guard let name = tool["function"]?["name"]?.stringValue else { return nil }
        return (name, tool["function"]?["parameters"] ?? .object(JSONObject()))
    }

    /// An agent's tool calls, for a request that offers tools (without forcing one) and has no tool result yet:
    /// the arithmetic tool each operation word of the last user message names (`plus` / `minus` / `times` /
    /// `divided by`…), with the numbers around it; or a tool the message names outright (`use the lookup tool`),
    /// with arguments made from its schema. Nil when the question asks for no offered tool.
    private func agentToolCalls(_ index: Int) -> [JSONValue]? {
        guard let tools = body["tools"]?.arrayValue, !tools.isEmpty,
            body["tool_choice"] == nil || body["tool_choice"] == .null,
            lastToolResult == nil
        else { return nil }
        let offered = Dictionary(
            tools.compactMap { tool in tool["function"]?["name"]?.stringValue.map { ($0, tool["function"] ?? .null) } }
        ) { first, _ in first }
        let text = lastUserText.lowercased()
        var calls: [(String, JSONValue)] = []
        let words = text.split { !$0.isLetter && !$0.isNumber && $0 != "." && $0 != "-" }.map(String.init)
        let operations: [(words: Set<String>, tool: String)] = [
            (["plus", "add", "added", "sum"], "add"), (["minus", "subtract", "less"], "subtract"),
            (["times", "multiply", "multiplied", "product"], "multiply"),
            (["divided", "divide", "per", "over"], "divide"),
        ]
        var numbers: [Double] = []
        var pending: String?
        for word in words {
            if let number = Double(word.trimmingCharacters(in: CharacterSet(charactersIn: "."))) {
                numbers.append(number)
                if let tool = pending, numbers.count >= 2, offered[tool] != nil {
                    let (a, b) = (numbers[numbers.count - 2], numbers[numbers.count - 1])
                    calls.append(
                        (tool, .object(JSONObject([("a", Self.number(a)), ("b", Self.number(b))]))))
                    pending = nil
                }
            } else if let operation = operations.first(where: { $0.words.contains(word) }) {
                pending = operation.tool
            }
        }
        // A tool the question names is called; a search tool (a `query` string parameter) searches for the
        // question itself when nothing else is called, and a task offered as a tool (Kiln's one `input` string)
        // is handed the question.
        let searches = { (function: JSONValue) in
            function["parameters"]?["properties"]?["query"]?["type"]?.stringValue == "string"
        }
        let delegates = { (function: JSONValue) in
            function["parameters"]?["properties"]?["input"]?["type"]?.stringValue == "string"
                && function["parameters"]?["properties"]?.objectValue?.count == 1
        }
        if calls.isEmpty {
            var generator = SchemaValueGenerator(seed: "\(hash)#tools")
            for (name, function) in offered.sorted(by: { $0.key < $1.key }) where text.contains(name.lowercased()) {
                if searches(function) {
                    calls.append((name, .object(JSONObject([("query", .string(lastUserText))]))))
                } else if delegates(function) {
                    calls.append((name, .object(JSONObject([("input", .string(lastUserText))]))))
                } else {
                    calls.append((name, generator.value(for: function["parameters"] ?? .object(JSONObject()))))
                }
            }
        }
        if calls.isEmpty, let (name, _) = offered.sorted(by: { $0.key < $1.key }).first(where: { searches($0.value) }) {
            calls.append((name, .object(JSONObject([("query", .string(lastUserText))]))))
        }
        // A lone task offered as a tool, with nothing else to call, is handed the question.
        let delegated = offered.filter { delegates($0.value) }
        if calls.isEmpty, offered.count == 1, let (name, _) = delegated.first {
            calls.append((name, .object(JSONObject([("input", .string(lastUserText))]))))
        }
        guard !calls.isEmpty else { return nil }
        return calls.enumerated().map { offset, call in
            .object(
                JSONObject([
                    ("id", .string("call_\(hash.prefix(8))_\(index)_\(offset)")), ("type", .string("function")),
                    (
                        "function",
                        .object(JSONObject([("name", .string(call.0)), ("arguments", .string(call.1.serialized()))]))
                    ),
                ]))
        }
    }

    /// Kiln's Q&A generation (its prompt names the "Q&A generation assistant"): each pair asks for the opening
    /// words of a sentence of the part, spread over its sentences, and answers with the whole sentence — so a
    /// search for the query finds the chunk it came from.
    private var qnaPairs: JSONValue? {
        let system = Self.text(of: body["messages"]?.arrayValue?.first?["content"])
        guard system.contains("**Q&A generation assistant**"),
            let input = try? JSONValue(parsing: lastUserText),
            let parts = input["kiln_data_gen_part_text"]?.arrayValue?.compactMap(\.stringValue)
        else { return nil }
        let count = max(1, input["kiln_data_gen_num_samples"]?.numberValue.map { Int($0) } ?? 1)
        var sentences: [String] = []
        for part in parts {
            var sentence = ""
            for character in part {
                sentence.append(character)
                guard character == "." || character == "?" || character == "!" || character == "\n" else { continue }
                sentences.append(sentence.trimmingCharacters(in: .whitespacesAndNewlines))
                sentence = ""
            }
            sentences.append(sentence.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let usable = sentences.filter { $0.split(separator: " ").count >= 4 }
        let pool = usable.isEmpty ? [parts.joined(separator: " ")] : usable
        let pairs = (0..<count).map { index -> JSONValue in
            let sentence = pool[index * pool.count / count]
            let words = sentence.split { !$0.isLetter && !$0.isNumber }.prefix(8)
            return .object(
                JSONObject([("query", .string(words.joined(separator: " "))), ("answer", .string(sentence))]))
        }
        return .object(JSONObject([("generated_qna_pairs", .array(pairs))]))
    }

    /// A whole number as an integer (as a model writes `2`, not `2.0`).
    private static func number(_ value: Double) -> JSONValue {
        value == value.rounded() && abs(value) < 1e15 ? .integer(Int(value)) : .double(value)
    }

    /// The content of the last message when it is a tool's result.
    private var lastToolResult: String? {
        guard let last = body["messages"]?.arrayValue?.last, last["role"]?.stringValue == "tool" else { return nil }
        return Self.text(of: last["content"])
    }

    /// The schema of `response_format: json_schema`, or one written in the prompt for JSON mode.
    private var requestedSchema: JSONValue? {
        switch body["response_format"]?["type"]?.stringValue {
        case "json_schema": return body["response_format"]?["json_schema"]?["schema"]
        case "json_object":
            return Self.schemaInText(allText)
                ?? .object(
                    JSONObject([
                        ("type", .string("object")),
                        (
                            "properties",
                            .object(JSONObject([("answer", .object(JSONObject([("type", .string("string"))])))]))
                        ),
                    ]))
        default:
            // A model following "return JSON matching this schema" instructions written in the prompt.
            return allText.contains("JSON Schema") ? Self.schemaInText(allText) : nil
        }
    }

    private var lastUserText: String {
        let messages = body["messages"]?.arrayValue ?? []
        return Self.text(of: messages.last { $0["role"]?.stringValue == "user" }?["content"])
    }

    /// The first image (its data URL) of the last user message, when it has one.
    private var lastUserImage: String? {
        let messages = body["messages"]?.arrayValue ?? []
        let content = messages.last { $0["role"]?.stringValue == "user" }?["content"]
        return content?.arrayValue?.lazy.compactMap { $0["image_url"]?["url"]?.stringValue }.first
    }

    private var allText: String {
        (body["messages"]?.arrayValue ?? []).map { Self.text(of: $0["content"]) }.joined(separator: "\n")
    }

    /// A model named `BASE+worse-on=WORD` is `BASE` except that it answers questions mentioning WORD (any case)
    /// with a useless apology (every string of a structured answer is the apology): a model known to be worse on a
    /// known subset, for regression tests.
    static func degradation(of model: String) -> (base: String, word: String)? {
        guard let range = model.range(of: "+worse-on="), !model[range.upperBound...].isEmpty else { return nil }
        return (String(model[..<range.lowerBound]), model[range.upperBound...].lowercased())
    }

    static let apology = "Sorry, as an AI I cannot help with that."

    /// Whether this request is one the degraded model answers badly.
    private var isDegraded: Bool {
        guard let word = Self.degradation(of: body["model"]?.stringValue ?? "")?.word else { return false }
        return lastUserText.lowercased().contains(word)
    }

    private static func apologizing(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string: return .string(apology)
        case .array(let values): return .array(values.map(apologizing))
        case .object(let object): return .object(JSONObject(object.map { ($0.key, apologizing($0.value)) }))
        default: return value
        }
    }

    static func text(of content: JSONValue?) -> String {
        switch content {
        case .string(let text): text
        case .array(let parts): parts.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
        default: ""
        }
    }

    /// The last JSON object in the text that looks like a schema (has "type" or "properties").
    static func schemaInText(_ text: String) -> JSONValue? {
        var candidate: JSONValue?
        var searchStart = text.startIndex
        while let open = text[searchStart...].firstIndex(of: "{") {
            var depth = 0
            var end: String.Index?
            var inString = false
            var escaped = false
            for index in text[open...].indices {
                let character = text[index]
                if inString {
                    if escaped {
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        inString = false
                    }
                    continue
                }
                if character == "\"" { inString = true }
                if character == "{" { depth += 1 }
                if character == "}" {
                    depth -= 1
                    if depth == 0 {
                        end = index
                        break
                    }
                }
            }
            guard let end else { break }
            if let value = try? JSONValue(parsing: String(text[open...end])),
                value["type"] != nil || value["properties"] != nil
            {
                candidate = value
            }
            searchStart = text.index(after: end)
        }
        return candidate
    }
}
