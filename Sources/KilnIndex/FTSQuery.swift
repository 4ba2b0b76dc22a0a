/// Turns what a person types into an FTS5 query: words (letters and digits, any script) lower-cased and quoted
/// so no character is FTS syntax, common English stop words dropped (they match most chunks and make BM25 slow
/// without ranking anything), the rest OR-ed — BM25 ranks chunks with more and rarer terms first.
package enum FTSQuery {
    package static let stopWords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from", "has", "have",
        "how",
        "i", "if", "in", "into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "so", "such",
        "that",
        "the", "their", "then", "there", "these", "they", "this", "to", "was", "we", "what", "when", "where", "which",
        "who", "why", "will", "with", "you", "your",
    ]

    /// The query's words, stop words removed unless nothing else is left.
    package static func terms(_ query: String) -> [String] {
        var words: [String] = []
        var current = ""
        for character in query.lowercased() {
            if character.isLetter || character.isNumber {
                current.append(character)
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        var seen = Set<String>()
        words = words.filter { seen.insert($0).inserted }
        let content = words.filter { !stopWords.contains($0) }
        return content.isEmpty ? words : content
    }

    /// The FTS5 MATCH expression, or nil when the query has no words.
    package static func match(_ query: String) -> String? {
        let terms = terms(query)
        guard !terms.isEmpty else { return nil }
        return terms.map { "\"\($0)\"" }.joined(separator: " OR ")
    }
}
