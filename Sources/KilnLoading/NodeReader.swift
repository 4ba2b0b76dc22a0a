import KilnBasics
import KilnModel
import Yams

/// A YAML mapping being read, after its keys were checked against what its context allows.
struct Fields {
    /// The mapping node itself, where "missing key" diagnostics point.
    let node: Node
    /// What the mapping is, for messages: "provider 'fast'", "stage 'judge'".
    let context: String
    let entries: [(key: String, keyNode: Node, value: Node)]

    subscript(key: String) -> Node? {
        entries.first { $0.key == key }?.value
    }

    func keyNode(_ key: String) -> Node? {
        entries.first { $0.key == key }?.keyNode
    }

    func has(_ key: String) -> Bool { self[key] != nil }
}

/// Reads YAML nodes into typed values, recording a located diagnostic for every problem instead of stopping,
/// so one run reports all mistakes of a file.
final class NodeReader {
    let file: String
    var interpolator: Interpolator
    /// At run time an unset variable is an error; `validate` only warns, since CI may set it.
    let unresolvedVariablesAreErrors: Bool
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String, interpolator: Interpolator, unresolvedVariablesAreErrors: Bool) {
        self.file = file
        self.interpolator = interpolator
        self.unresolvedVariablesAreErrors = unresolvedVariablesAreErrors
    }

    // MARK: Diagnostics

    func location(_ node: Node?) -> SourceLocation {
        guard let mark = node?.mark else { return SourceLocation(file: file) }
        return SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    func error(at node: Node?, _ message: String, hint: String? = nil) {
        diagnostics.append(Diagnostic(.error, at: location(node), message, hint: hint))
    }

    func warning(at node: Node?, _ message: String, hint: String? = nil) {
        diagnostics.append(Diagnostic(.warning, at: location(node), message, hint: hint))
    }

    func error(at location: SourceLocation, _ message: String, hint: String? = nil) {
        diagnostics.append(Diagnostic(.error, at: location, message, hint: hint))
    }

    // MARK: Structure

    /// Reads a mapping, reporting unknown keys (with "did you mean") and missing required keys.
    /// A mapping's entries with YAML merge keys applied: `<<: *defaults` (or a list of anchors) adds the keys the
    /// mapping does not set itself; earlier mappings in the list win over later ones.
    func merged(_ mapping: Node.Mapping, context: String) -> [(Node, Node)] {
        var explicit: [(Node, Node)] = []
        var inherited: [(Node, Node)] = []
        for (key, value) in mapping {
            guard key.string == "<<" else {
                explicit.append((key, value))
                continue
            }
            let sources = value.sequence.map(Array.init) ?? [value]
            for source in sources {
                guard case .mapping(let inner) = source else {
                    error(
                        at: source, "'<<' merges a mapping into \(context), got \(describe(source))",
                        hint: "write '<<: *anchor' where the anchor names a mapping, or a list of them")
                    continue
                }
                inherited += merged(inner, context: context)
            }
        }
        var seen = Set(explicit.compactMap { $0.0.string })
        for (key, value) in inherited where seen.insert(key.string ?? "").inserted {
            explicit.append((key, value))
        }
        return explicit
    }

    /// A key named like a secret (`api_key`, `token`…) holding one: refused wherever it is written.
    func secretKey(_ keyNode: Node, named key: String, in context: String) {
        error(
            at: keyNode, "'\(key)' would put a secret in the pipeline file (\(context))",
            hint: "keep keys out of files: export the key as an environment variable and name it, e.g. "
                + "api_key_env: OPENAI_API_KEY")
    }

    func fields(_ node: Node, context: String, allowed: [String], required: [String] = []) -> Fields? {
        guard case .mapping(let mapping) = node else {
            error(
                at: node, "expected a mapping for \(context), got \(describe(node))",
                hint: "write it as 'key: value' lines")
            return nil
        }
        var entries: [(String, Node, Node)] = []
        let pairs = merged(mapping, context: context)
        for (keyNode, value) in pairs {
            guard case .scalar(let scalar) = keyNode, !isNull(keyNode) else {
                error(at: keyNode, "expected a plain name as key in \(context), got \(describe(keyNode))")
                continue
            }
            let key = scalar.string
            if allowed.contains(key) {
                entries.append((key, keyNode, value))
            } else if SecretPatterns.secretKeyNames.contains(key.lowercased()) {
                secretKey(keyNode, named: key, in: context)
            } else if !SecretPatterns.looksLikeSecret(key) {  // a key that is a secret: reported (not echoed) once
                error(
                    at: keyNode, "unknown key '\(key.excerpt())' in \(context)",
                    hint: NearMiss.hint(for: key, among: allowed, listing: "allowed keys"))
            }
        }
        let fields = Fields(node: node, context: context, entries: entries)
        for key in required where !fields.has(key) && pairs.allSatisfy({ $0.0.string != key }) {
            error(at: node, "\(context) is missing required key '\(key)'")
        }
        return fields
    }

    /// Reads a list; a single scalar counts as a one-element list when `acceptScalar` is set.
    func sequence(_ node: Node?, _ name: String, acceptScalar: Bool = false) -> [Node]? {
        guard let node else { return nil }
        switch node {
        case .sequence(let sequence): return Array(sequence)
        case .scalar where acceptScalar && !isNull(node): return [node]
        default:
            error(
                at: node, "expected a list for '\(name)', got \(describe(node))",
                hint: "write it as [a, b] or as '- a' lines")
            return nil
        }
    }

    // MARK: Scalars

    /// The interpolated text of a scalar; nil (with a diagnostic, or a warning for an unset variable) otherwise.
    func text(_ node: Node?, _ name: String, expected: String = "a string") -> String? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node, !isNull(node) else {
            error(at: node, "expected \(expected) for '\(name)', got \(describe(node))")
            return nil
        }
        let expansion = interpolator.expand(scalar.string)
        for problem in expansion.problems {
            error(at: node, problem, hint: "write ${NAME} or ${NAME:-default}; write $${ for a literal '${'")
        }
        for variable in expansion.unresolved {
            let message = "variable '\(variable)' is not set (used by '\(name)')"
            let hint = "pass --var \(variable)=VALUE, add it under 'vars:', export it, or write ${\(variable):-default}"
            if unresolvedVariablesAreErrors {
                error(at: node, message, hint: hint)
            } else {
                warning(at: node, message, hint: hint)
            }
        }
        return expansion.problems.isEmpty && expansion.unresolved.isEmpty ? expansion.text : nil
    }

    func string(_ node: Node?, _ name: String, nonEmpty: Bool = true) -> String? {
        guard let value = text(node, name) else { return nil }
        if nonEmpty, value.allSatisfy(\.isWhitespace) {
            error(at: node, "'\(name)' must not be empty")
            return nil
        }
        return value
    }

    func int(_ node: Node?, _ name: String, in range: ClosedRange<Int>? = nil) -> Int? {
        guard let value = text(node, name, expected: "an integer") else { return nil }
        guard let number = Int(value.trimmingWhitespace()) else {
            error(
                at: node, "expected an integer for '\(name)', got '\(value)'",
                hint: "write a whole number, e.g. \(name): \(range?.lowerBound ?? 1)")
            return nil
        }
        if let range, !range.contains(number) {
            error(at: node, "'\(name)' must be \(describe(range)), got \(number)")
            return nil
        }
        return number
    }

    func double(
        _ node: Node?, _ name: String, in range: ClosedRange<Double>? = nil, above lowerBound: Double? = nil
    )
        -> Double?
    {
        guard let value = text(node, name, expected: "a number") else { return nil }
        guard let number = Double(value.trimmingWhitespace()), number.isFinite else {
            error(at: node, "expected a number for '\(name)', got '\(value)'", hint: "write a plain number such as 0.5")
            return nil
        }
        if let range, !range.contains(number) {
            error(
                at: node,
                "'\(name)' must be between \(range.lowerBound.compactDescription) and "
                    + "\(range.upperBound.compactDescription), got \(number.compactDescription)"
            )
            return nil
        }
        if let lowerBound, number <= lowerBound {
            error(
                at: node,
                "'\(name)' must be greater than \(lowerBound.compactDescription), got \(number.compactDescription)")
            return nil
        }
        return number
    }

    func bool(_ node: Node?, _ name: String) -> Bool? {
        guard let value = text(node, name, expected: "true or false") else { return nil }
        switch value.trimmingWhitespace().lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error(at: node, "expected true or false for '\(name)', got '\(value)'")
            return nil
        }
    }

    /// One of an enumeration's raw values, with "did you mean" for near misses.
    func choice<Choice: RawRepresentable & CaseIterable>(
        _ node: Node?, _ name: String, among choices: [Choice] = Array(Choice.allCases)
    ) -> Choice? where Choice.RawValue == String {
        guard let value = text(node, name) else { return nil }
        if let choice = choices.first(where: { $0.rawValue == value }) { return choice }
        let names = choices.map(\.rawValue)
        error(at: node, "unknown \(name) '\(value)'", hint: NearMiss.hint(for: value, among: names))
        return nil
    }

    /// A list of strings (or one string), each with its node for later located checks.
    func strings(_ node: Node?, _ name: String) -> [(value: String, node: Node)]? {
        guard let elements = sequence(node, name, acceptScalar: true) else { return nil }
        return elements.compactMap { element in string(element, name).map { ($0, element) } }
    }

    // MARK: Helpers

    func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): isNull(node) ? "nothing (null)" : "'\(scalar.string.excerpt())'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    private func describe(_ range: ClosedRange<Int>) -> String {
        range.upperBound == Int.max
            ? "at least \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)"
    }

}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
