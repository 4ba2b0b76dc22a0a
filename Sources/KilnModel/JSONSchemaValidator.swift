package import KilnBasics

/// Checks a JSON value against a JSON Schema (the subset structured-output APIs use) and says where it fails.
package enum JSONSchemaValidator {
    /// The first few violations, as `$.path: problem`; empty when the value conforms.
    package static func violations(of value: JSONValue, against schema: JSONValue, limit: Int = 5) -> [String] {
        var found: [String] = []
        check(value, schema, path: "$", into: &found, limit: limit)
        return found
    }

    private static func check(
        _ value: JSONValue, _ schema: JSONValue, path: String, into found: inout [String], limit: Int
    ) {
        guard found.count < limit else { return }
        if case .bool(let allowed) = schema {
            if !allowed { found.append("\(path): no value is allowed here") }
            return
        }
        guard let rules = schema.objectValue else { return }
        if let types = typeNames(rules["type"]), !types.contains(where: { matches(value, type: $0) }) {
            found.append("\(path): expected \(types.joined(separator: " or ")), got \(value.typeName)")
            return
        }
        if let options = rules["enum"]?.arrayValue, !options.contains(where: { equal($0, value) }) {
            found.append("\(path): \(value.serialized()) is not one of \(JSONValue.array(options).serialized())")
        }
        if let constant = rules["const"], !equal(constant, value) {
            found.append("\(path): expected \(constant.serialized())")
        }
        for keyword in ["allOf"] {
            for member in rules[keyword]?.arrayValue ?? [] {
                check(value, member, path: path, into: &found, limit: limit)
            }
        }
        for keyword in ["anyOf", "oneOf"] {
            if let members = rules[keyword]?.arrayValue,
                !members.contains(where: { violations(of: value, against: $0, limit: 1).isEmpty })
            {
                found.append("\(path): matches none of the \(keyword) alternatives")
            }
        }
        switch value {
        case .object(let object):
            let properties = rules["properties"]?.objectValue ?? JSONObject()
            for name in rules["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[name] == nil {
                found.append("\(path): missing required property '\(name)'")
            }
            for (key, member) in object {
                if let propertySchema = properties[key] {
                    check(member, propertySchema, path: "\(path).\(key)", into: &found, limit: limit)
                } else if let additional = rules["additionalProperties"] {
                    if additional == .bool(false) {
                        found.append("\(path): unexpected property '\(key)'")
                    } else {
                        check(member, additional, path: "\(path).\(key)", into: &found, limit: limit)
                    }
                }
            }
        case .array(let elements):
            if let minimum = rules["minItems"]?.numberValue, Double(elements.count) < minimum {
                found.append("\(path): expected at least \(Int(minimum)) items, got \(elements.count)")
            }
            if let maximum = rules["maxItems"]?.numberValue, Double(elements.count) > maximum {
                found.append("\(path): expected at most \(Int(maximum)) items, got \(elements.count)")
            }
            if let items = rules["items"], items.objectValue != nil || items.isBool {
                for (index, element) in elements.enumerated() {
                    check(element, items, path: "\(path)[\(index)]", into: &found, limit: limit)
                }
            }
        case .string(let text):
            let length = text.unicodeScalars.count
            if let minimum = rules["minLength"]?.numberValue, Double(length) < minimum {
                found.append("\(path): shorter than \(Int(minimum)) characters")
            }
            if let maximum = rules["maxLength"]?.numberValue, Double(length) > maximum {
                found.append("\(path): longer than \(Int(maximum)) characters")
            }
            if let pattern = rules["pattern"]?.stringValue, let regex = try? Regex(pattern),
                (try? regex.firstMatch(in: text)) == nil
            {
                found.append("\(path): does not match pattern \(pattern)")
            }
        case .integer, .double:
            let number = value.numberValue ?? 0
            if let minimum = rules["minimum"]?.numberValue, number < minimum {
                found.append("\(path): below minimum \(minimum)")
            }
            if let maximum = rules["maximum"]?.numberValue, number > maximum {
                found.append("\(path): above maximum \(maximum)")
            }
        default:
            break
        }
    }

    private static func typeNames(_ value: JSONValue?) -> [String]? {
        switch value {
        case .string(let name): [name]
        case .array(let names): names.compactMap(\.stringValue)
        default: nil
        }
    }

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null): true
        case ("integer", .integer): true
        case ("integer", .double(let number)): number == number.rounded()
        case ("number", .integer), ("number", .double): true
        default: false
        }
    }

    /// JSON equality where 1 and 1.0 are the same number.
    private static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.numberValue, let y = b.numberValue { return x == y }
        return a == b
    }
}

extension JSONValue {
    var isBool: Bool {
        if case .bool = self { return true }
        return false
    }
}
