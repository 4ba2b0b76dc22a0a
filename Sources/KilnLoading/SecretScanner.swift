import Yams

/// Finds API keys written literally anywhere in a pipeline file, before any interpolation.
enum SecretScanner {
    static func scan(_ node: Node, reader: NodeReader) {
        switch node {
        case .scalar(let scalar):
            if SecretPatterns.looksLikeSecret(scalar.string) {
                reader.error(
                    at: node, "this looks like a literal API key; secrets must not be written in pipeline files",
                    hint: "delete it, export the key as an environment variable and name that variable with api_key_env"
                )
            }
        case .mapping(let mapping):
            for (key, value) in mapping {
                scan(key, reader: reader)
                // A secret-named key is reported once, by the mapping's reader; its value is not reported again.
                if let name = key.string, SecretPatterns.secretKeyNames.contains(name.lowercased()) { continue }
                scan(value, reader: reader)
            }
        case .sequence(let sequence):
            for element in sequence { scan(element, reader: reader) }
        case .alias:
            break
        }
    }
}
