/// One problem found in user input, located and phrased to say what to do next.
package struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    /// How bad a diagnostic is: errors make a file invalid, warnings do not.
    package enum Severity: String, Sendable, Hashable, Codable {
        case error
        case warning
    }

    package var severity: Severity
    package var location: SourceLocation
    /// What was found and what was expected.
    package var message: String
    /// What to do about it; printed in parentheses after the message.
    package var hint: String?

    package init(_ severity: Severity, at location: SourceLocation, _ message: String, hint: String? = nil) {
        self.severity = severity
        self.location = location
        // A message quotes what it found; however long that was, the message stays readable.
        self.message = message.cuttingQuotedSpans().excerpt(Self.longest)
        self.hint = hint?.cuttingQuotedSpans().excerpt(Self.longest)
    }

    /// The most characters a message or hint keeps.
    package static let longest = 2_000

    /// `FILE:LINE:COL: error: <what> (<hint>)`.
    package var description: String {
        var text = "\(location): \(severity.rawValue): \(message)"
        if let hint { text += " (\(hint))" }
        return text
    }
}

extension [Diagnostic] {
    /// Whether any diagnostic in the list is an error.
    package var containsErrors: Bool { contains { $0.severity == .error } }

    /// Orders diagnostics by file, then position, keeping the discovery order for ties.
    package func sortedByLocation() -> [Diagnostic] {
        enumerated().sorted { lhs, rhs in
            let (a, b) = (lhs.element.location, rhs.element.location)
            if a.file != b.file { return a.file < b.file }
            if a.line != b.line { return a.line < b.line }
            if a.column != b.column { return a.column < b.column }
            return lhs.offset < rhs.offset
        }.map(\.element)
    }
}
