import Foundation
import KilnBasics
import KilnModel

/// Applies a stage's `dedup`, `min_chars` and `max_chars` to the items it emits. Filtered items are counted and
/// reported, never silently lost. Dedup keeps 8 bytes per distinct item: the one thing here that grows with
/// the data, inherent to deduplication.
struct QualityFilter {
    let settings: QualityFilters
    let field: String
    private var seen: Set<UInt64> = []

    init(settings: QualityFilters, field: String) {
        self.settings = settings
        self.field = field
    }

    /// Nil when the item passes; otherwise why it was dropped.
    mutating func rejection(of item: PipelineItem) -> String? {
        let value = item.fields[field] ?? .null
        let text = value.stringValue ?? value.serialized()
        let length = text.count
        if let minimum = settings.minChars, length < minimum { return "shorter than min_chars \(minimum) (\(length))" }
        if let maximum = settings.maxChars, length > maximum { return "longer than max_chars \(maximum) (\(length))" }
        switch settings.dedup {
        case .none:
            return nil
        case .exact, .normalized:
            let key = settings.dedup == .exact ? text : Self.normalized(text)
            let hash = UInt64(SHA256.hex(key).prefix(16), radix: 16) ?? 0
            return seen.insert(hash).inserted
                ? nil : "duplicate of an earlier \(field) (dedup: \(settings.dedup.rawValue))"
        }
    }

    /// Unicode-compatible, case-folded, whitespace-collapsed, punctuation at the ends ignored.
    static func normalized(_ text: String) -> String {
        let folded = text.precomposedStringWithCompatibilityMapping.lowercased()
        let words = folded.split(whereSeparator: { $0.isWhitespace })
        return words.joined(separator: " ").trimmingCharacters(in: .punctuationCharacters.union(.whitespaces))
    }
}
