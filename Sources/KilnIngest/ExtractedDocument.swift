/// The file formats `ingest` reads.
package enum DocumentFormat: String, Sendable, Hashable, CaseIterable {
    case pdf, html, docx, markdown, text

    /// The format a file name implies, or nil for a file `ingest` does not read.
    package init?(path: String) {
        let name = path.lowercased()
        guard let dot = name.lastIndex(of: ".") else { return nil }
        switch name[name.index(after: dot)...] {
        case "pdf": self = .pdf
        case "html", "htm", "xhtml": self = .html
        case "docx": self = .docx
        case "md", "markdown": self = .markdown
        case "txt", "text": self = .text
        default: return nil
        }
    }
}

/// A run of a document's text under one heading path, on one page when the format has pages.
package struct DocumentSection: Sendable, Hashable {
    package var text: String
    /// 1-based page number (PDF only).
    package var page: Int?
    /// The headings above this text, outermost first.
    package var headings: [String]

    package init(text: String, page: Int? = nil, headings: [String] = []) {
        self.text = text
        self.page = page
        self.headings = headings
    }
}

/// A document's text in reading order.
package struct ExtractedDocument: Sendable, Hashable {
    package var format: DocumentFormat
    package var sections: [DocumentSection]
    /// Pages of a PDF; nil for formats without pages.
    package var pageCount: Int?
    /// Things a user should know that did not stop the extraction (pages without text, a guessed encoding).
    package var warnings: [String] = []

    package init(format: DocumentFormat, sections: [DocumentSection], pageCount: Int? = nil, warnings: [String] = []) {
        self.format = format
        self.sections = sections.filter { !$0.text.allSatisfy(\.isWhitespace) }
        self.pageCount = pageCount
        self.warnings = warnings
    }

    /// All text, sections separated by a blank line: the text that chunk offsets point into.
    package var text: String { sections.map(\.text).joined(separator: Self.sectionSeparator) }

    static let sectionSeparator = "\n\n"
}

/// Why a document could not be read; reported for that document, never a stopped run.
package struct ExtractionError: Error, Sendable, Hashable, CustomStringConvertible {
    package var message: String

    package init(_ message: String) { self.message = message }

    package var description: String { message }
}

/// Limits on what one document may cost to read.
package struct ExtractionLimits: Sendable, Hashable {
    package var maxBytes: Int
    package var maxPages: Int

    package init(maxBytes: Int = 50 << 20, maxPages: Int = 2000) {
        self.maxBytes = maxBytes
        self.maxPages = maxPages
    }
}
