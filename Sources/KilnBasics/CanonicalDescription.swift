/// A deterministic text for any value, via reflection: like `String(reflecting:)` but with dictionary and set
/// entries sorted, so equal values always give the same text (and the same hash), run after run.
package enum CanonicalDescription {
    /// `skipping` leaves out fields with these labels at any depth (source locations, say, which change when a
    /// file is re-indented but do not change what a value means).
    package static func of(_ value: Any, skipping: Set<String> = []) -> String {
        func of(_ value: Any) -> String { Self.of(value, skipping: skipping) }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            return mirror.children.first.map { of($0.value) } ?? "nil"
        case .dictionary:
            let entries = mirror.children.map { entry -> String in
                let pair = Mirror(reflecting: entry.value).children.map { of($0.value) }
                return pair.joined(separator: ": ")
            }
            return "[" + entries.sorted().joined(separator: ", ") + "]"
        case .set:
            return "{" + mirror.children.map { of($0.value) }.sorted().joined(separator: ", ") + "}"
        case .collection, .tuple:
            return "(" + mirror.children.map { of($0.value) }.joined(separator: ", ") + ")"
        case .struct, .class, .enum:
            let fields = mirror.children.filter { !skipping.contains($0.label ?? "") }.map {
                "\($0.label ?? "_"): \(of($0.value))"
            }
            let name = String(reflecting: mirror.subjectType)
            if mirror.displayStyle == .enum, fields.isEmpty { return "\(name).\(value)" }
            return name + "(" + fields.joined(separator: ", ") + ")"
        default:
            return String(reflecting: value)
        }
    }
}
