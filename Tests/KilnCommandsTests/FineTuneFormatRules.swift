import Foundation

/// The published line formats of the fine-tuning services, as a user's pre-upload check would apply them:
/// Fireworks and OpenAI (`messages` of system / user / assistant strings, ending with the assistant), Together's
/// `check_file` (the same, no `tools` column, no null content) and Vertex Gemini (`systemInstruction` plus
/// `contents` alternating user / model parts, ending with the model).
enum FineTuneFormatRules {
    enum Service: String, CaseIterable { case fireworks, together, vertex }

    /// The problems of one JSONL file (empty when every line passes).
    static func problems(in text: String, for service: Service) -> [String] {
        var problems: [String] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                problems.append("line \(number + 1): not a JSON object")
                continue
            }
            let issue = service == .vertex ? vertexProblem(object) : chatProblem(object, together: service == .together)
            if let issue { problems.append("line \(number + 1): \(issue)") }
        }
        return problems
    }

    private static func chatProblem(_ object: [String: Any], together: Bool) -> String? {
        guard let messages = object["messages"] as? [[String: Any]], !messages.isEmpty else { return "no messages" }
        if together, object["tools"] != nil { return "Together rejects a tools column" }
        let allowed = Set(object.keys).subtracting(["messages", "tools"])
        if !allowed.isEmpty { return "unknown keys \(allowed.sorted())" }
        for (index, message) in messages.enumerated() {
            guard let role = message["role"] as? String, ["system", "user", "assistant"].contains(role) else {
                return "message \(index): bad role"
            }
            if role == "system", index != 0 { return "message \(index): system message not first" }
            guard let content = message["content"] as? String, !content.isEmpty else {
                return "message \(index): content must be a non-empty string"
            }
        }
        guard messages.contains(where: { $0["role"] as? String == "user" }) else { return "no user message" }
        guard messages.last?["role"] as? String == "assistant" else { return "does not end with the assistant" }
        return nil
    }

    private static func vertexProblem(_ object: [String: Any]) -> String? {
        if let system = object["systemInstruction"] as? [String: Any] {
            guard let parts = system["parts"] as? [[String: Any]], parts.allSatisfy({ $0["text"] is String }) else {
                return "systemInstruction needs text parts"
            }
        }
        guard let contents = object["contents"] as? [[String: Any]], !contents.isEmpty else { return "no contents" }
        var expected = "user"
        for (index, content) in contents.enumerated() {
            guard let role = content["role"] as? String, role == expected else {
                return "contents \(index): expected role \(expected)"
            }
            guard let parts = content["parts"] as? [[String: Any]], !parts.isEmpty,
                parts.allSatisfy({ ($0["text"] as? String).map { !$0.isEmpty } ?? false })
            else { return "contents \(index): parts need non-empty text" }
            expected = role == "user" ? "model" : "user"
        }
        guard contents.last?["role"] as? String == "model" else { return "does not end with the model" }
        return nil
    }
}
