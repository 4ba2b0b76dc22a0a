/// How the fake model cuts its answers into tokens: words and numbers, and each punctuation mark on its own.
package enum FakeTokenizer {
    package static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        for character in text {
            if character.isLetter || character.isNumber {
                current.append(character)
            } else {
                if !current.isEmpty { tokens.append(current) }
                current = ""
                if !character.isWhitespace { tokens.append(String(character)) }
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    /// The answer as a model's tokens: pieces that concatenate back to exactly `text`, each a word or a
    /// punctuation mark carrying the whitespace before it (" world", " (").
    package static func pieces(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        func isWord(_ character: Character) -> Bool { character.isLetter || character.isNumber }
        for character in text {
            if character.isWhitespace {
                if current.contains(where: { !$0.isWhitespace }) {
                    pieces.append(current)
                    current = ""
                }
                current.append(character)
            } else if isWord(character) {
                if let last = current.last, !isWord(last), !last.isWhitespace {
                    pieces.append(current)
                    current = ""
                }
                current.append(character)
            } else {
                if current.contains(where: { !$0.isWhitespace }) {
                    pieces.append(current)
                    current = ""
                }
                current.append(character)
                pieces.append(current)
                current = ""
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }
}
