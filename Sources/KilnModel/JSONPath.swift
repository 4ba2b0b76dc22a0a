package import KilnBasics

/// A JSON path in the simple dotted form `$.a.b[0]["c d"]`, resolved against a JSON value.
package struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    package var components: [JSONPathComponent]
    package var description: String

    /// Nil when the text is not a path of keys and indexes.
    package init?(parsing text: String) {
        var scalars = Substring(text)
        if scalars.hasPrefix("$") {
            scalars = scalars.dropFirst()
        } else if let first = scalars.first, first != "." && first != "[" {
            // A bare `a.b` is read as `$.a.b`.
            scalars = "." + scalars
        }
        var components: [JSONPathComponent] = []
        while let first = scalars.first {
            if first == "." {
                scalars = scalars.dropFirst()
                let name = scalars.prefix { $0 != "." && $0 != "[" }
                guard !name.isEmpty else { return nil }
                components.append(.key(String(name)))
                scalars = scalars.dropFirst(name.count)
            } else if first == "[" {
                guard let close = scalars.firstIndex(of: "]") else { return nil }
                let inside = scalars[scalars.index(after: scalars.startIndex)..<close]
                if let index = Int(inside), index >= 0 {
                    components.append(.index(index))
                } else if inside.count >= 2, let quote = inside.first, quote == "\"" || quote == "'",
                    inside.last == quote
                {
                    components.append(.key(String(inside.dropFirst().dropLast())))
                } else {
                    return nil
                }
                scalars = scalars[scalars.index(after: close)...]
            } else {
                return nil
            }
        }
        guard !components.isEmpty else { return nil }
        self.components = components
        self.description = text
    }
}

extension JSONPath {
    /// A field of `row` by column name, or by JSON path (`$.a.b`, `a.b`, `list[0]`).
    package static func lookup(_ source: String, in row: JSONValue) -> JSONValue? {
        if let direct = row[source] { return direct }
        guard source.contains(".") || source.contains("["), let path = JSONPath(parsing: source) else { return nil }
        var current: JSONValue? = row
        for component in path.components {
            switch component {
            case .key(let key): current = current?[key]
            case .index(let index):
                guard let array = current?.arrayValue, index < array.count else { return nil }
                current = array[index]
            }
        }
        return current
    }
}
