import KilnBasics

/// Kiln's dataset filters, spelled as Kiln spells their ids.
package indirect enum DatasetFilter: Sendable, Hashable, CustomStringConvertible {
    case all
    /// Repaired, or five_star >= 4, or pass.
    case highRating
    /// Items with reasoning or chain of thought.
    case thinkingModel
    case thinkingModelHighRated
    case tag(String)
    /// All of the filters (AND).
    case allOf([DatasetFilter])

    package static let simpleNames = ["all", "high_rating", "thinking_model", "thinking_model_high_rated"]

    /// Why a filter id could not be read.
    package struct ParseError: Error, Sendable, Hashable {
        package var message: String
        package var hint: String
    }

    /// Parses `all`, `high_rating`, `thinking_model`, `thinking_model_high_rated`, `tag::NAME`,
    /// `multi_filter::A&B` (`\&` escapes an ampersand inside a part).
    package init(parsing text: String) throws(ParseError) {
        switch text {
        case "all": self = .all
        case "high_rating": self = .highRating
        case "thinking_model": self = .thinkingModel
        case "thinking_model_high_rated": self = .thinkingModelHighRated
        default:
            if text.hasPrefix("tag::") {
                let tag = String(text.dropFirst(5))
                guard !tag.isEmpty, !tag.contains(where: \.isWhitespace) else {
                    throw ParseError(
                        message: "invalid tag filter '\(text)'",
                        hint: "a tag is non-empty and has no spaces: tag::golden")
                }
                self = .tag(tag)
            } else if text.hasPrefix("multi_filter::") {
                let parts = Self.splitUnescaped(String(text.dropFirst(14)))
                guard parts.count >= 2 else {
                    throw ParseError(
                        message: "multi_filter needs at least two filters joined by '&'",
                        hint: "for example multi_filter::high_rating&tag::golden")
                }
                var filters: [DatasetFilter] = []
                for part in parts { filters.append(try DatasetFilter(parsing: part)) }
                self = .allOf(filters)
            } else {
                throw ParseError(
                    message: "unknown dataset filter '\(text)'",
                    hint: NearMiss.hint(for: text, among: Self.simpleNames + ["tag::NAME", "multi_filter::A&B"]))
            }
        }
    }

    package var description: String {
        switch self {
        case .all: "all"
        case .highRating: "high_rating"
        case .thinkingModel: "thinking_model"
        case .thinkingModelHighRated: "thinking_model_high_rated"
        case .tag(let tag): "tag::\(tag)"
        case .allOf(let filters):
            "multi_filter::"
                + filters.map { String($0.description.flatMap { $0 == "&" ? ["\\", "&"] : [$0] }) }
                .joined(separator: "&")
        }
    }

    private static func splitUnescaped(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "&" {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts
    }
}
