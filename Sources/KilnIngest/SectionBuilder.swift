/// Collects a structured document's text into sections: a heading closes the current section and starts one
/// under the new heading path; paragraphs are separated by a blank line; runs of whitespace collapse.
struct SectionBuilder {
    private(set) var sections: [DocumentSection] = []
    /// (level, text) of the headings above the current position.
    private var headings: [(level: Int, text: String)] = []
    private var current = ""
    private var pendingBreak = false

    /// Appends inline text; whitespace runs become one space (HTML's rendering rule).
    mutating func inline(_ text: String) {
        var collapsed = ""
        collapsed.reserveCapacity(text.utf8.count)
        var lastWasSpace = current.last.map(\.isWhitespace) ?? true
        for character in text {
            if character.isWhitespace {
                if !lastWasSpace { collapsed.append(" ") }
                lastWasSpace = true
            } else {
                collapsed.append(character)
                lastWasSpace = false
            }
        }
        // Whitespace alone never opens a paragraph: it only separates words within one.
        if collapsed.isEmpty || (collapsed == " " && (pendingBreak || current.isEmpty)) { return }
        if pendingBreak, !current.isEmpty {
            trimTrailingSpace()
            current += "\n\n"
            if collapsed.first == " " { collapsed.removeFirst() }
        }
        pendingBreak = false
        current += collapsed
    }

    /// Appends text as is (preformatted blocks, tabs and line breaks).
    mutating func verbatim(_ text: String) {
        if pendingBreak, !current.isEmpty {
            trimTrailingSpace()
            current += "\n\n"
        }
        pendingBreak = false
        current += text
    }

    /// Ends a paragraph or block.
    mutating func paragraphBreak() { pendingBreak = true }

    /// A heading of `level` (1 outermost): the text so far becomes a section, the heading opens the next one.
    mutating func heading(_ text: String, level: Int) {
        let title = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard !title.isEmpty else { return }
        flush()
        headings.removeAll { $0.level >= level }
        headings.append((level, title))
        current = title
        pendingBreak = true
    }

    /// The sections, the last one included.
    mutating func finish() -> [DocumentSection] {
        flush()
        return sections
    }

    private mutating func flush() {
        trimTrailingSpace()
        if !current.isEmpty { sections.append(DocumentSection(text: current, headings: headings.map(\.text))) }
        current = ""
        pendingBreak = false
    }

    private mutating func trimTrailingSpace() {
        while current.last == " " { current.removeLast() }
    }
}
