package import KilnBasics

/// A step in a path through a JSON document.
package enum JSONPathComponent: Sendable, Hashable {
    case key(String)
    case index(Int)
}

/// Checks that a JSON value is a usable JSON Schema (the subset structured-output APIs accept),
/// reporting every problem with the path of the offending member.
package enum JSONSchemaLint {
    /// One problem, at `path` inside the schema; `atKey` when the member's name itself is the problem.
    package struct Problem: Sendable, Hashable {
        package var path: [JSONPathComponent]
        package var atKey: Bool
        package var message: String
        package var hint: String?
    }

    package static let typeNames = ["object", "array", "string", "number", "integer", "boolean", "null"]

    private static let schemaMapKeywords = ["properties", "patternProperties", "$defs", "definitions"]
    private static let schemaListKeywords = ["anyOf", "oneOf", "allOf", "prefixItems"]
    private static let singleSchemaKeywords = [
        "additionalProperties", "items", "not", "contains", "if", "then", "else",
    ]
    private static let numberKeywords = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]
    private static let countKeywords = [
        "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties",
    ]
    private static let stringKeywords = [
        "$ref", "$schema", "$id", "$comment", "title", "description", "format", "pattern",
    ]
    private static let otherKeywords = ["type", "required", "enum", "const", "default", "examples", "uniqueItems"]
    /// Every keyword this linter knows, for "did you mean" on misspellings.
    package static let knownKeywords =
        schemaMapKeywords + schemaListKeywords + singleSchemaKeywords + numberKeywords + countKeywords
        + stringKeywords + otherKeywords

    /// Lints a task schema: a valid schema whose top level is `type: object`, as Kiln requires.
    package static func problems(inTaskSchema schema: JSONValue) -> [Problem] {
        var problems = self.problems(in: schema)
        if problems.isEmpty, schema["type"] != .string("object") {
            problems.append(
                Problem(
                    path: schema["type"] == nil ? [] : [.key("type")], atKey: false,
                    message: "a task schema must describe a JSON object at its top level",
                    hint: "set 'type: object' and list the fields under 'properties'"))
        }
        return problems
    }

    /// Lints any schema; an empty list means it is usable.
    package static func problems(in schema: JSONValue) -> [Problem] {
        var problems: [Problem] = []
        lint(schema, at: [], into: &problems)
        return problems
    }

    private static func lint(_ schema: JSONValue, at path: [JSONPathComponent], into problems: inout [Problem]) {
        if case .bool = schema { return }
        guard let object = schema.objectValue else {
            problems.append(
                Problem(
                    path: path, atKey: false, message: "expected a schema (a mapping), got \(schema.typeName)",
                    hint: "for example {type: string}"))
            return
        }
        for (key, value) in object {
            let here = path + [.key(key)]
            func problem(_ message: String, _ hint: String? = nil) {
                problems.append(Problem(path: here, atKey: false, message: message, hint: hint))
            }
            switch key {
            case "type":
                lintType(value, problem: problem)
            case _ where schemaMapKeywords.contains(key):
                guard let members = value.objectValue else {
                    problem("'\(key)' must map names to schemas, got \(value.typeName)")
                    continue
                }
                for (name, member) in members { lint(member, at: here + [.key(name)], into: &problems) }
            case _ where schemaListKeywords.contains(key):
                guard let list = value.arrayValue, !list.isEmpty else {
                    problem("'\(key)' must be a non-empty list of schemas, got \(value.typeName)")
                    continue
                }
                for (offset, member) in list.enumerated() { lint(member, at: here + [.index(offset)], into: &problems) }
            case _ where singleSchemaKeywords.contains(key):
                if key == "items", let list = value.arrayValue {
                    for (offset, member) in list.enumerated() {
                        lint(member, at: here + [.index(offset)], into: &problems)
                    }
                } else {
                    lint(value, at: here, into: &problems)
                }
            case _ where numberKeywords.contains(key):
                guard let number = value.numberValue else {
                    problem("'\(key)' must be a number, got \(value.typeName)")
                    continue
                }
                if key == "multipleOf", number <= 0 { problem("'multipleOf' must be greater than 0") }
            case _ where countKeywords.contains(key):
                guard case .integer(let count) = value, count >= 0 else {
                    problem("'\(key)' must be a non-negative integer, got \(describe(value))")
                    continue
                }
            case _ where stringKeywords.contains(key):
                guard let text = value.stringValue else {
                    problem("'\(key)' must be a string, got \(value.typeName)")
                    continue
                }
                if key == "pattern", (try? Regex(text)) == nil {
                    problem("'pattern' is not a valid regular expression: \(text)")
                }
            case "required":
                lintRequired(value, properties: object["properties"]?.objectValue, problem: problem)
            case "enum":
                if value.arrayValue?.isEmpty ?? true {
                    problem("'enum' must be a non-empty list of allowed values, got \(describe(value))")
                }
            case "uniqueItems":
                if case .bool = value {} else { problem("'uniqueItems' must be true or false, got \(value.typeName)") }
            case "const", "default", "examples":
                continue
            default:
                if let known = NearMiss.suggestion(for: key, among: knownKeywords) {
                    problems.append(
                        Problem(
                            path: here, atKey: true, message: "unknown JSON Schema keyword '\(key)'",
                            hint: "did you mean '\(known)'?"))
                }
            }
        }
    }

    private static func lintType(_ value: JSONValue, problem: (String, String?) -> Void) {
        let names: [JSONValue]
        switch value {
        case .string: names = [value]
        case .array(let list) where !list.isEmpty: names = list
        default:
            problem("'type' must be a type name or a list of them, got \(describe(value))", nil)
            return
        }
        for name in names {
            guard let text = name.stringValue, typeNames.contains(text) else {
                let text = name.stringValue ?? describe(name)
                problem("unknown JSON Schema type '\(text)'", NearMiss.hint(for: text, among: typeNames))
                return
            }
        }
    }

    private static func lintRequired(
        _ value: JSONValue, properties: JSONObject?, problem: (String, String?) -> Void
    ) {
        guard let list = value.arrayValue else {
            problem("'required' must be a list of property names, got \(value.typeName)", nil)
            return
        }
        var seen: Set<String> = []
        for element in list {
            guard let name = element.stringValue else {
                problem("'required' must list property names (strings), found \(describe(element))", nil)
                return
            }
            if !seen.insert(name).inserted {
                problem("'\(name)' is listed twice in 'required'", nil)
            }
            if let properties, properties[name] == nil {
                problem(
                    "required property '\(name)' is not defined in 'properties'",
                    NearMiss.suggestion(for: name, among: properties.keys).map { "did you mean '\($0)'?" }
                        ?? "add it under 'properties' or remove it from 'required'")
            }
        }
    }

    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): "'\(text)'"
        case .integer, .double, .bool, .null: value.serialized()
        case .array, .object: value.typeName
        }
    }
}
