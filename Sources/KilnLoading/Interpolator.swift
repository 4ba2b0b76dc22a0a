/// Expands `${VAR}` and `${VAR:-default}` in pipeline values; `$${` writes a literal `${`.
///
/// Lookup order: `--var` values, then the file's `vars:`, then the environment. Command-line values win so a CI
/// job can override a file; the file's `vars:` win over the environment so an unrelated variable of the same
/// name in a developer's shell cannot silently change a pipeline.
struct Interpolator: Sendable {
    var commandLine: [String: String]
    var fileVars: [String: String]
    var environment: [String: String]

    /// The result of expanding one value.
    struct Expansion: Sendable, Equatable {
        var text: String
        /// Variables referenced without a default that have no value anywhere.
        var unresolved: [String] = []
        /// Syntax problems, e.g. an unterminated `${`.
        var problems: [String] = []
    }

    func value(of name: String) -> String? {
        commandLine[name] ?? fileVars[name] ?? environment[name]
    }

    func expand(_ text: String) -> Expansion {
        guard text.contains("$") else { return Expansion(text: text) }
        var result = Expansion(text: "")
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            result.text += rest[..<dollar]
            let afterDollar = rest.index(after: dollar)
            if rest[afterDollar...].hasPrefix("${") {
                result.text += "${"
                rest = rest[rest.index(afterDollar, offsetBy: 2)...]
                continue
            }
            guard rest[afterDollar...].hasPrefix("{") else {
                result.text += "$"
                rest = rest[afterDollar...]
                continue
            }
            let bodyStart = rest.index(after: afterDollar)
            guard let close = rest[bodyStart...].firstIndex(of: "}") else {
                result.problems.append("unterminated '${' in '\(text)'")
                result.text += rest[dollar...]
                return result
            }
            let body = rest[bodyStart..<close]
            let name: Substring
            let fallback: Substring?
            if let separator = body.firstRange(of: ":-") {
                name = body[..<separator.lowerBound]
                fallback = body[separator.upperBound...]
            } else {
                name = body
                fallback = nil
            }
            if !Self.isValidName(name) {
                result.problems.append("'${\(body)}' is not a valid variable reference")
            } else if let value = value(of: String(name)) {
                result.text += value
            } else if let fallback {
                result.text += fallback
            } else {
                result.unresolved.append(String(name))
            }
            rest = rest[rest.index(after: close)...]
        }
        result.text += rest
        return result
    }

    /// Letters, digits and `_`, not starting with a digit (what a shell accepts as a variable name).
    static func isValidName(_ name: some StringProtocol) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy {
            $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0)
                || ("0"..."9").contains($0)
        }
    }
}
