import KilnBasics
import KilnModel
import Yams

extension NodeReader {
    /// A YAML value as JSON: plain scalars become numbers, booleans and null as YAML reads them, quoted ones stay
    /// strings. Every string is interpolated.
    func json(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style != .plain { return .string(text(node, "value") ?? scalar.string) }
            if isNull(node) { return .null }
            let raw = scalar.string
            switch raw {
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default: break
            }
            if let integer = Int(raw) { return .integer(integer) }
            if raw.contains(where: { ".eE".contains($0) }), let number = Double(raw), number.isFinite {
                return .double(number)
            }
            return .string(text(node, "value") ?? raw)
        case .mapping(let mapping):
            var object = JSONObject()
            for (key, value) in mapping {
                object[key.string ?? describe(key)] = json(value)
            }
            return .object(object)
        case .sequence(let sequence):
            return .array(sequence.map(json))
        case .alias:
            return .null
        }
    }

    /// The YAML node at a JSON path inside `node`, as deep as the path can be followed.
    func node(at path: [JSONPathComponent], in node: Node, keyOfLast: Bool) -> Node {
        var current = node
        for (offset, component) in path.enumerated() {
            switch (component, current) {
            case (.key(let key), .mapping(let mapping)):
                guard let entry = mapping.first(where: { $0.key.string == key }) else { return current }
                current = keyOfLast && offset == path.count - 1 ? entry.key : entry.value
            case (.index(let index), .sequence(let sequence)) where index < sequence.count:
                current = sequence[sequence.index(sequence.startIndex, offsetBy: index)]
            default:
                return current
            }
        }
        return current
    }
}
