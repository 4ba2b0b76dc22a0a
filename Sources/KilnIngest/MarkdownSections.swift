import Foundation

/// Markdown split at ATX headings (`#` … `######`), outside fenced code blocks; the text is kept as written.
enum MarkdownSections {
    static func split(_ text: String) -> [DocumentSection] {
        var sections: [DocumentSection] = []
        var headings: [(level: Int, text: String)] = []
        var lines: [Substring] = []
        var fence: Substring?
        func flush() {
            let body = lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            if !body.isEmpty { sections.append(DocumentSection(text: body, headings: headings.map(\.text))) }
            lines.removeAll()
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                let marker = trimmed.prefix(3)
                fence = fence == nil ? marker : (fence == marker ? nil : fence)
            }
            if fence == nil, let (level, title) = heading(line) {
                flush()
                headings.removeAll { $0.level >= level }
                headings.append((level, title))
            }
            lines.append(line.last == "\r" ? line.dropLast() : line)
        }
        flush()
        return sections
    }

    private static func heading(_ line: Substring) -> (Int, String)? {
        guard line.first == "#" else { return nil }
        let level = line.prefix { $0 == "#" }.count
        let rest = line.dropFirst(level)
        guard level <= 6, rest.isEmpty || rest.first == " " || rest.first == "\t" else { return nil }
        var title = rest.trimmingCharacters(in: .whitespaces)
        while title.hasSuffix("#") { title.removeLast() }
        title = title.trimmingCharacters(in: .whitespaces)
        return title.isEmpty ? nil : (level, title)
    }
}
