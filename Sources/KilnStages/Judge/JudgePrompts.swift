import KilnBasics
import KilnModel

/// kiln-pipe's LLM-judge prompt: the task, the rubric with each item's score scale, the input, the output and
/// (when present) the reference answer; the answer is a JSON object with the reasoning first, then one score per
/// rubric item, then the overall score.
enum JudgePrompts {
    static let version = "judge/v2"

    /// The longest reasoning the judge's schema allows (characters): the reasoning comes first, and a decoder that
    /// enforces the schema (llama.cpp's grammars) must not let a model ramble in it until `max_tokens` cuts the
    /// scores off.
    static let maximumReasoningLength = 1000

    static let system = """
        You are an expert evaluator. You judge how well a model's output performs a task, item by item against a \
        rubric, strictly and fairly. Judge only what is asked; do not reward length or confident tone.
        """

    /// The values a score of this type may take, as the judge writes them.
    static func scale(of type: ScoreType) -> String {
        switch type {
        case .fiveStar: "an integer from 1 (very poor) to 5 (excellent)"
        case .passFail: "\"pass\" or \"fail\""
        case .passFailCritical: "\"pass\", \"fail\" or \"critical\" (a severe failure)"
        }
    }

    static func user(
        task: TaskDefinition, rubric: [TaskRequirement], overall: ScoreType, input: String, output: String,
        expected: String?, chainOfThought: Bool, toolUse: String? = nil, rowRubric: String? = nil
    ) -> String {
        var text = "<task>\n\(task.instruction)\n</task>\n\n<rubric>\n"
        for (index, item) in rubric.enumerated() {
            text += "\(index + 1). \(item.name) (\(scale(of: item.type))): \(item.instruction)\n"
        }
        text += "overall (\(scale(of: overall))): how well the output performs the task as a whole.\n</rubric>\n\n"
        // Criteria this row brings (its `rubric` column): weighed in every score, above all overall.
        if let rowRubric { text += "<criteria_for_this_input>\n\(rowRubric)\n</criteria_for_this_input>\n\n" }
        text += "<input>\n\(input)\n</input>\n\n"
        // An agent's answer is judged with the tools it called and what they returned.
        if let toolUse { text += "<tool_use>\n\(toolUse)\n</tool_use>\n\n" }
        text += "<output>\n\(output)\n</output>\n"
        if let expected { text += "\n<reference_answer>\n\(expected)\n</reference_answer>\n" }
        let keys =
            (chainOfThought ? ["\"reasoning\": \"...\""] : []) + rubric.map { "\"\($0.name)\": ..." } + [
                "\"overall\": ..."
            ]
        text += "\nAnswer with a JSON object {\(keys.joined(separator: ", "))}"
        text += chainOfThought ? ", reasoning briefly (a few sentences) before giving the scores." : "."
        return text
    }

    /// An agent's tool use from its trace, one line per call and per result (`add({"a":2,"b":3}) -> 5`); nil when
    /// the item called no tool.
    static func toolUse(of trace: JSONValue?) -> String? {
        var names: [String: String] = [:]
        var lines: [String] = []
        for message in trace?.arrayValue ?? [] {
            for call in message["tool_calls"]?.arrayValue ?? [] {
                let name = call["function"]?["name"]?.stringValue ?? "?"
                if let id = call["id"]?.stringValue { names[id] = name }
                lines.append("call \(name)(\(call["function"]?["arguments"]?.stringValue ?? ""))")
            }
            if message["role"]?.stringValue == "tool" {
                let name = message["tool_call_id"]?.stringValue.flatMap { names[$0] } ?? "?"
                lines.append("result of \(name): \(message["content"]?.stringValue ?? "")")
            }
        }
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }

    static func schema(rubric: [TaskRequirement], overall: ScoreType, chainOfThought: Bool) -> JSONValue {
        var properties = JSONObject()
        if chainOfThought {
            properties["reasoning"] = .object(
                JSONObject([("type", .string("string")), ("maxLength", .integer(maximumReasoningLength))]))
        }
        for item in rubric { properties[item.name] = scoreSchema(item.type) }
        properties["overall"] = scoreSchema(overall)
        return .object(
            JSONObject([
                ("type", .string("object")), ("properties", .object(properties)),
                ("required", .array(properties.keys.map(JSONValue.string))),
            ]))
    }

    static func scoreSchema(_ type: ScoreType) -> JSONValue {
        switch type {
        case .fiveStar:
            .object(JSONObject([("type", .string("integer")), ("minimum", .integer(1)), ("maximum", .integer(5))]))
        case .passFail:
            .object(JSONObject([("type", .string("string")), ("enum", .array([.string("pass"), .string("fail")]))]))
        case .passFailCritical:
            .object(
                JSONObject([
                    ("type", .string("string")),
                    ("enum", .array([.string("pass"), .string("fail"), .string("critical")])),
                ]))
        }
    }

    /// A written score as Kiln's number: five_star 1–5, pass 1, fail 0, critical -1.
    static func value(of written: JSONValue, type: ScoreType) -> Double? {
        switch type {
        case .fiveStar:
            guard let number = written.numberValue ?? written.stringValue.flatMap(Double.init), (1...5).contains(number)
            else {
                return nil
            }
            return number
        case .passFail, .passFailCritical:
            switch written.stringValue?.lowercased() {
            case "pass": return 1
            case "fail": return 0
            case "critical" where type == .passFailCritical: return -1
            default: return nil
            }
        }
    }
}
