import KilnBasics

/// Makes a JSON value that satisfies a JSON Schema, deterministically from a seed: the fake model's
/// structured answers.
struct SchemaValueGenerator {
    private var random: SplitMix64

    init(seed: String) {
        random = SplitMix64(
            seed: SHA256.hex(seed).utf8.prefix(16).reduce(UInt64(1469598103934665603)) {
                ($0 ^ UInt64($1)) &* 1099511628211
            })
    }

    mutating func next() -> UInt64 { random.next() }

    mutating func pick(_ count: Int) -> Int { Int(next() % UInt64(max(count, 1))) }

    mutating func value(for schema: JSONValue, name: String = "value") -> JSONValue {
        if let options = schema["enum"]?.arrayValue, !options.isEmpty { return options[pick(options.count)] }
        if let constant = schema["const"] { return constant }
        if let choices = (schema["anyOf"] ?? schema["oneOf"])?.arrayValue, !choices.isEmpty {
            return value(for: choices[pick(choices.count)], name: name)
        }
        let type: String
        switch schema["type"] {
        case .string(let single): type = single
        case .array(let list): type = list.compactMap(\.stringValue).first { $0 != "null" } ?? "null"
        default: type = schema["properties"] != nil ? "object" : "string"
        }
        switch type {
        case "object":
            var object = JSONObject()
            for (key, member) in schema["properties"]?.objectValue ?? JSONObject() {
                object[key] = value(for: member, name: key)
            }
            return .object(object)
        case "array":
            let minimum = schema["minItems"].flatMap(\.numberValue).map { Int($0) } ?? 1
            let maximum = schema["maxItems"].flatMap(\.numberValue).map { Int($0) } ?? max(minimum, 3)
            let count = minimum + pick(max(maximum - minimum, 0) + 1)
            let items = schema["items"] ?? .object(JSONObject([("type", .string("string"))]))
            return .array((0..<count).map { index in value(for: items, name: "\(name) \(index + 1)") })
        case "integer":
            let low = schema["minimum"].flatMap(\.numberValue).map { Int($0) } ?? 1
            let high = schema["maximum"].flatMap(\.numberValue).map { Int($0) } ?? max(low, 5)
            return .integer(low + pick(max(high - low, 0) + 1))
        case "number":
            let low = schema["minimum"]?.numberValue ?? 0
            let high = schema["maximum"]?.numberValue ?? max(low, 1)
            return .double(low + (high - low) * Double(next() % 1000) / 1000)
        case "boolean":
            return .bool(next() % 2 == 0)
        case "null":
            return .null
        default:
            var text = "\(name) \(String(next() % 100_000, radix: 36))"
            if let minimum = schema["minLength"]?.numberValue, text.count < Int(minimum) {
                text += String(repeating: "x", count: Int(minimum) - text.count)
            }
            return .string(text)
        }
    }
}
