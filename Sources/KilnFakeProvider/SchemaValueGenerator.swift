import KilnBasics

/// Makes a JSON value that satisfies a JSON Schema, deterministically from a seed: the fake model's
/// structured answers.
struct SchemaValueGenerator {
    private var state: UInt64

    init(seed: String) {
        state = SHA256.hex(seed).utf8.prefix(16).reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1)) &* 1099511628211 }
    }

    mutating func next() -> UInt64 {
        // splitmix64
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

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
