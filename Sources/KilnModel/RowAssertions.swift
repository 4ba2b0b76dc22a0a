package import KilnBasics

/// Checks a data row carries for itself, as promptfoo's per-test `assert`: an `assert` field (one assertion, a list,
/// or their JSON text, as a CSV cell holds it) and `assert_<type>` columns (`assert_contains: refund`). They are
/// read and checked when the row is loaded (a bad one is a bad row, with its place), travel with the row's answers
/// and are scored by the judge beside the stage's own, as `row_<type>` (or their `name`).
package enum RowAssertions {
    /// What a row may check of its own answer (latency, cost and tool use are the stage's business).
    package static let kinds: [Assertion.Kind] = [
        .equals, .contains, .notContains, .regex, .jsonPathEquals, .jsonSchemaValid,
    ]
    static let keys: Set<String> = ["type", "name", "value", "pattern", "path", "schema", "ignore_case"]

    /// A row's `assert` and `assert_<type>` as checked JSON objects (`[]` when it has none); throws what is wrong.
    package static func read(_ row: JSONValue, field: String) throws(ActionableError) -> [JSONValue] {
        var entries: [JSONValue] = []
        if let value = JSONPath.lookup(field, in: row), value != .null {
            var value = value
            if let text = value.stringValue {
                guard let parsed = try? JSONValue(parsing: text) else {
                    throw ActionableError(
                        "'\(field)' is not JSON: \(text.excerpt())",
                        hint: #"write an assertion such as {"type": "contains", "value": "refund"}, or a list of them"#)
                }
                value = parsed
            }
            entries = value.arrayValue ?? [value]
        }
        for (column, value) in row.objectValue ?? JSONObject() where column.hasPrefix("assert_") {
            guard value != .null, value.stringValue?.isEmpty != true else { continue }
            let type = String(column.dropFirst("assert_".count))
            let key = type == "regex" ? "pattern" : "value"
            entries.append(.object(JSONObject([("type", .string(type)), (key, value)])))
        }
        var checked: [JSONValue] = []
        var used: [String: Int] = [:]
        for entry in entries {
            var assertion = try check(entry)
            let base = assertion["name"]?.stringValue ?? "row_\(assertion["type"]?.stringValue ?? "")"
            used[base, default: 0] += 1
            if var object = assertion.objectValue {
                object["name"] = .string(used[base] == 1 ? base : "\(base)_\(used[base] ?? 0)")
                assertion = .object(object)
            }
            checked.append(assertion)
        }
        return checked
    }

    private static func check(_ entry: JSONValue) throws(ActionableError) -> JSONValue {
        guard var object = entry.objectValue else {
            throw ActionableError(
                "an assertion of the row is \(entry.serialized().excerpt()), not an object",
                hint: #"write {"type": "contains", "value": "…"}"#)
        }
        guard let type = object["type"]?.stringValue, let kind = Assertion.Kind(rawValue: type),
            kinds.contains(kind)
        else {
            throw ActionableError(
                "the row asks for assertion type '\(object["type"]?.stringValue ?? "")'",
                hint: NearMiss.hint(
                    for: object["type"]?.stringValue ?? "", among: kinds.map(\.rawValue), listing: "a row may use"))
        }
        if let unknown = object.keys.first(where: { !keys.contains($0) }) {
            throw ActionableError(
                "the row's \(type) assertion has unknown key '\(unknown)'",
                hint: "it takes " + keys.sorted().joined(separator: ", "))
        }
        // Numbers and booleans compare as their text.
        if let value = object["value"], value.stringValue == nil, value.arrayValue == nil, value.objectValue == nil {
            object["value"] = .string(value.serialized())
        }
        switch kind {
        case .contains, .notContains:
            if object["value"]?.stringValue?.isEmpty != false {
                throw ActionableError("the row's \(type) assertion has no value", hint: "give it the text to look for")
            }
        case .regex:
            guard let pattern = object["pattern"]?.stringValue ?? object["value"]?.stringValue else {
                throw ActionableError("the row's regex assertion has no pattern", hint: #"give it "pattern": "…""#)
            }
            do { _ = try Regex(pattern) } catch {
                throw ActionableError("the row's regex '\(pattern.excerpt())' does not compile: \(error)")
            }
            object["pattern"] = .string(pattern)
            object["value"] = nil
        case .jsonPathEquals:
            if object["path"]?.stringValue == nil || object["value"] == nil {
                throw ActionableError(
                    "the row's json_path_equals assertion needs a path and a value",
                    hint: #"e.g. {"type": "json_path_equals", "path": "$.label", "value": "refund"}"#)
            }
        default: break
        }
        return .object(object)
    }

    /// The assertions of checked JSON objects (as `read` returns them).
    package static func assertions(_ values: [JSONValue]) -> [Assertion] {
        values.compactMap { value in
            guard let type = value["type"]?.stringValue, let kind = Assertion.Kind(rawValue: type) else { return nil }
            return Assertion(
                name: value["name"]?.stringValue ?? "row_\(type)", kind: kind,
                value: value["value"].map { $0.stringValue ?? $0.serialized() }, pattern: value["pattern"]?.stringValue,
                path: value["path"]?.stringValue, schema: value["schema"],
                ignoreCase: value["ignore_case"] == .bool(true))
        }
    }
}
