import Foundation
package import KilnBasics
import KilnModel

/// One judged item as a run saw it: how the user knows it, which model answered, its scores, and (when known) what
/// it said. Runs keep these to be compared item by item without a call.
package struct ScoredItem: Sendable, Hashable {
    /// How the user knows the item (see `EvalSummary.label(of:)`), unique within its stage and group.
    package var key: String
    /// The model (provider id) that answered; items are compared within their group.
    package var group: String
    package var scores: [String: Double]
    /// SHA-256 of the item's JSON line: the whole item is kept once in the store under this hash.
    package var body: String?
    /// What a reader needs to see (from a summary.json, or from the body once fetched).
    package var detail: Detail?

    /// The texts of an item: the question, the answer, the reference and why it scored as it did.
    package struct Detail: Sendable, Hashable {
        package var input: String
        package var output: String
        package var expected: String?
        package var reason: String?

        package init(input: String, output: String, expected: String? = nil, reason: String? = nil) {
            self.input = input
            self.output = output
            self.expected = expected
            self.reason = reason
        }

        /// From a judged item: the judge's reasoning and the failed assertions, joined, are its reason.
        package init(item: JSONValue) {
            let failures = item["assertion_failures"]?.objectValue.map { object in
                object.map { "\($0.key): \($0.value.stringValue ?? "")" }.joined(separator: "; ")
            }
            let reason = [item["judge"]?["reasoning"]?.stringValue, failures].compactMap { $0 }.joined(
                separator: " | ")
            self.init(
                input: EvalSummary.text(item["input"]), output: EvalSummary.text(item["output"]),
                expected: item["expected"].map(EvalSummary.text), reason: reason.isEmpty ? nil : reason)
        }
    }

    package init(key: String, group: String, scores: [String: Double], body: String? = nil, detail: Detail? = nil) {
        self.key = key
        self.group = group
        self.scores = scores
        self.body = body
        self.detail = detail
    }

    /// A line of a judge stage's results; `line` is its text as written, whose hash names the body.
    package init(item: JSONValue, line: String) {
        self.init(
            key: EvalSummary.label(of: item), group: ItemGroup.of(item), scores: Self.scores(item["scores"] ?? .null),
            body: SHA256.hex(line))
    }

    /// Every item of a judge stage's results file, in file order, with their texts when `details` is set.
    package static func read(resultsFile: String, details: Bool = false) throws -> [ScoredItem] {
        let reader = try Reader(resultsFile: resultsFile)
        var items: [ScoredItem] = []
        while let (read, item, _) = reader.next() {
            var scored = read
            if details { scored.detail = Detail(item: item) }
            items.append(scored)
        }
        return items
    }

    /// Reads a judge stage's results file a line at a time, making keys unique within their group (a second item
    /// labelled `q1` becomes `q1 (2)`); each line comes with its item and its text as written.
    package final class Reader {
        private let lines: LineReader
        private var seen: [String: Int] = [:]

        package init(resultsFile: String) throws { lines = try LineReader(path: resultsFile) }

        package func next() -> (ScoredItem, JSONValue, String)? {
            while let line = lines.next() {
                guard let item = try? JSONValue(parsing: line) else { continue }
                var scored = ScoredItem(item: item, line: line)
                let identity = "\(scored.group)\u{0}\(scored.key)"
                let count = seen[identity, default: 0] + 1
                seen[identity] = count
                if count > 1 { scored.key += " (\(count))" }
                return (scored, item, line)
            }
            return nil
        }
    }

    /// The compact form a run keeps in the store: `[key, group, body, {scores}]`.
    package var stored: JSONValue {
        .array([.string(key), .string(group), body.map(JSONValue.string) ?? .null, Self.scoresJSON(scores)])
    }

    package init?(stored: JSONValue) {
        guard let parts = stored.arrayValue, parts.count == 4, let key = parts[0].stringValue,
            let group = parts[1].stringValue
        else { return nil }
        self.init(key: key, group: group, scores: Self.scores(parts[3]), body: parts[2].stringValue)
    }

    /// The form of a summary.json item: its scores and, cut to `excerpt` characters, its texts.
    package func summaryJSON(excerpt: Int = 600) -> JSONValue {
        var object = JSONObject([("id", .string(key)), ("model", .string(group)), ("scores", Self.scoresJSON(scores))])
        if let detail {
            func clip(_ text: String) -> JSONValue { .string(text.count > excerpt ? text.prefix(excerpt) + "…" : text) }
            object["input"] = clip(detail.input)
            object["output"] = clip(detail.output)
            object["expected"] = detail.expected.map(clip) ?? .null
            object["reason"] = detail.reason.map(clip) ?? .null
        }
        return .object(object)
    }

    package init?(summaryJSON json: JSONValue) {
        guard let key = json["id"]?.stringValue else { return nil }
        var detail: Detail?
        if let input = json["input"]?.stringValue, let output = json["output"]?.stringValue {
            detail = Detail(
                input: input, output: output, expected: json["expected"]?.stringValue,
                reason: json["reason"]?.stringValue)
        }
        self.init(
            key: key, group: json["model"]?.stringValue ?? "", scores: Self.scores(json["scores"] ?? .null),
            detail: detail)
    }

    private static func scoresJSON(_ scores: [String: Double]) -> JSONValue {
        .object(JSONObject(scores.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.double($0.value)) }))
    }

    private static func scores(_ json: JSONValue) -> [String: Double] {
        var scores: [String: Double] = [:]
        for (name, value) in json.objectValue ?? JSONObject() {
            if let number = value.numberValue { scores[name] = number }
        }
        return scores
    }
}
