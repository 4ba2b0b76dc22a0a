import Foundation
import KilnBasics
import KilnModel

/// Evaluates deterministic assertions on an output item: each passes (1) or fails (0), with a reason on failure.
enum AssertionCheck {
    struct Outcome: Sendable {
        var passed: Bool
        var reason: String?
        /// A score other than 1 or 0 (a reciprocal rank).
        var score: Double? = nil
    }

    static func evaluate(_ assertion: Assertion, item: PipelineItem, taskSchema: JSONValue?) -> Outcome {
        let output = item.fields["output"] ?? .null
        let text = output.stringValue ?? output.serialized()
        func compare(_ a: String, _ b: String) -> Bool {
            assertion.ignoreCase ? a.lowercased() == b.lowercased() : a == b
        }
        func contains(_ haystack: String, _ needle: String) -> Bool {
            assertion.ignoreCase ? haystack.lowercased().contains(needle.lowercased()) : haystack.contains(needle)
        }
        switch assertion.kind {
        case .equals:
            let expected = assertion.value ?? item.fields["expected"].map { $0.stringValue ?? $0.serialized() }
            guard let expected else {
                return Outcome(passed: false, reason: "no value to compare with: set value or load an expected field")
            }
            return compare(
                text.trimmingCharacters(in: .whitespacesAndNewlines),
                expected.trimmingCharacters(in: .whitespacesAndNewlines))
                ? Outcome(passed: true)
                : Outcome(passed: false, reason: "expected \(quoted(expected)), got \(quoted(text))")
        case .contains:
            let needle = assertion.value ?? ""
            return contains(text, needle)
                ? Outcome(passed: true) : Outcome(passed: false, reason: "does not contain \(quoted(needle))")
        case .notContains:
            let needle = assertion.value ?? ""
            return contains(text, needle)
                ? Outcome(passed: false, reason: "contains \(quoted(needle))") : Outcome(passed: true)
        case .regex, .finalAnswerMatches:
            let pattern = (assertion.ignoreCase ? "(?i)" : "") + (assertion.pattern ?? "")
            guard let regex = try? Regex(pattern) else { return Outcome(passed: false, reason: "invalid pattern") }
            return (try? regex.firstMatch(in: text)) != nil
                ? Outcome(passed: true) : Outcome(passed: false, reason: "does not match /\(assertion.pattern ?? "")/")
        case .jsonSchemaValid:
            guard let schema = assertion.schema ?? taskSchema else {
                return Outcome(passed: false, reason: "no schema")
            }
            let value =
                output.objectValue != nil || output.arrayValue != nil
                ? output : AnswerValidation.extractJSON(from: text)
            guard let value else { return Outcome(passed: false, reason: "the output is not JSON") }
            let violations = JSONSchemaValidator.violations(of: value, against: schema, limit: 2)
            return violations.isEmpty
                ? Outcome(passed: true) : Outcome(passed: false, reason: violations.joined(separator: "; "))
        case .jsonPathEquals:
            let value =
                output.objectValue != nil || output.arrayValue != nil
                ? output : AnswerValidation.extractJSON(from: text)
            guard let value, let path = assertion.path.flatMap(JSONPath.init(parsing:)) else {
                return Outcome(passed: false, reason: "the output is not JSON")
            }
            let found = JSONPath.lookup(path.description, in: value)
            let foundText = found.map { $0.stringValue ?? $0.serialized() }
            guard let foundText else { return Outcome(passed: false, reason: "\(path.description) is missing") }
            return compare(foundText, assertion.value ?? "")
                ? Outcome(passed: true)
                : Outcome(
                    passed: false,
                    reason: "\(path.description) is \(quoted(foundText)), expected \(quoted(assertion.value ?? ""))")
        case .maxLatencyMS:
            let latency = item.fields["provenance"]?["latency_ms"]?.numberValue ?? 0
            let limit = Double(assertion.value ?? "") ?? 0
            return latency <= limit
                ? Outcome(passed: true)
                : Outcome(passed: false, reason: "took \(Int(latency)) ms, limit \(Int(limit)) ms")
        case .maxCost:
            let cost = item.fields["provenance"]?["cost_usd"]?.numberValue ?? 0
            let limit = Double(assertion.value ?? "") ?? 0
            return cost <= limit
                ? Outcome(passed: true) : Outcome(passed: false, reason: "cost $\(cost), limit $\(limit)")
        case .toolCalled:
            let calls = toolCalls(in: item)
            let named = calls.filter { assertion.value == nil || $0.name == assertion.value }
            let tool = assertion.value.map { "'\($0)'" } ?? "any tool"
            guard !named.isEmpty else {
                let made = calls.isEmpty ? "none" : calls.map(\.name).joined(separator: ", ")
                return Outcome(passed: false, reason: "\(tool) was not called (calls: \(made))")
            }
            let matching = named.first { call in
                assertion.arguments.allSatisfy { path, expected in
                    JSONPath.lookup(path, in: call.arguments).map { Self.same($0, expected) } ?? false
                }
            }
            let wanted = JSONValue.object(JSONObject(assertion.arguments.sorted { $0.key < $1.key })).serialized()
            let seen = named.map { $0.arguments.serialized() }.joined(separator: "; ")
            return matching != nil
                ? Outcome(passed: true)
                : Outcome(passed: false, reason: "\(tool) was called, never with \(wanted) (arguments: \(seen))")
        case .toolNotCalled:
            let calls = toolCalls(in: item).filter { assertion.value == nil || $0.name == assertion.value }
            return calls.isEmpty
                ? Outcome(passed: true)
                : Outcome(
                    passed: false,
                    reason: "\(assertion.value.map { "'\($0)'" } ?? "a tool") was called \(calls.count) time(s)")
        case .maxToolCalls:
            let count = toolCalls(in: item).count
            let limit = Int(assertion.value ?? "") ?? 0
            return count <= limit
                ? Outcome(passed: true) : Outcome(passed: false, reason: "\(count) tool calls, limit \(limit)")
        case .similar:
            // Needs embeddings: the judge stage measures it (`SimilarityCheck`).
            return Outcome(passed: false, reason: "no embeddings to compare with")
        case .retrievalHit, .reciprocalRank:
            guard let source = item.fields["source_chunk"], source["document_id"] != nil else {
                return Outcome(
                    passed: false, reason: "the row has no source_chunk (a qna stage's questions carry theirs)",
                    score: 0)
            }
            let retrieved = RetrievalMatch.ranked(item.fields["retrieved"]?.arrayValue ?? [])
            guard !retrieved.isEmpty else { return Outcome(passed: false, reason: "no search was made", score: 0) }
            let rank = retrieved.firstIndex { RetrievalMatch.covers($0, source) }.map { $0 + 1 }
            let place = "\(source["document_id"]?.stringValue ?? "") chunk \(source["chunk_idx"]?.serialized() ?? "?")"
            if assertion.kind == .reciprocalRank {
                guard let rank else {
                    return Outcome(
                        passed: false, reason: "\(place) was not among the \(retrieved.count) chunks found", score: 0)
                }
                return Outcome(
                    passed: rank == 1, reason: rank == 1 ? nil : "\(place) ranked \(rank)", score: 1 / Double(rank))
            }
            let k = Int(assertion.value ?? "") ?? SearchToolSpec.defaultK
            guard let rank, rank <= k else {
                return Outcome(
                    passed: false,
                    reason: "\(place) was not among the first \(k) chunks found"
                        + (rank.map { " (rank \($0))" } ?? ""))
            }
            return Outcome(passed: true)
        }
    }

    /// The tool calls of an agent's trace, with their arguments parsed (`{}` when they do not parse).
    static func toolCalls(in item: PipelineItem) -> [(name: String, arguments: JSONValue)] {
        (item.fields["trace"]?.arrayValue ?? []).flatMap { message in
            (message["tool_calls"]?.arrayValue ?? []).map { call in
                let text = call["function"]?["arguments"]?.stringValue ?? "{}"
                return (
                    call["function"]?["name"]?.stringValue ?? "",
                    (try? JSONValue(parsing: text)) ?? .object(JSONObject())
                )
            }
        }
    }

    /// Equal as values: numbers by value (`2` and `2.0`), everything else exactly.
    private static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.numberValue, let y = b.numberValue { return x == y }
        if let text = b.stringValue, a.stringValue == nil { return a.serialized() == text }
        return a == b
    }

    private static func quoted(_ text: String) -> String {
        let short = text.count > 60 ? String(text.prefix(57)) + "..." : text
        return "'\(short)'"
    }
}
