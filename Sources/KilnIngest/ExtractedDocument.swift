import Foundation
package import KilnBasics

/// The file formats `ingest` reads.
package enum DocumentFormat: String, Sendable, Hashable, CaseIterable {
    case pdf, html, docx, markdown, text
    /// PNG, JPEG, WebP or GIF: no text layer; read only by LLM extraction.
    case image

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
        case "png", "jpg", "jpeg", "webp", "gif": self = .image
        default: return nil
        }
    }

    /// The media type of an image file, for a vision model.
    package static func imageMediaType(path: String) -> String {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "jpg", "jpeg": "image/jpeg"
        case "webp": "image/webp"
        case "gif": "image/gif"
        default: "image/png"
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
    /// Pages that had no text layer (scanned): 1-based; `[1]` for an image file.
    package var pagesWithoutText: [Int] = []

    package init(
        format: DocumentFormat, sections: [DocumentSection], pageCount: Int? = nil, warnings: [String] = [],
        pagesWithoutText: [Int] = []
    ) {
        self.format = format
        self.sections = sections.filter { !$0.text.allSatisfy(\.isWhitespace) }
        self.pageCount = pageCount
        self.warnings = warnings
        self.pagesWithoutText = pagesWithoutText
    }

    /// All text, sections separated by a blank line: the text that chunk offsets point into.
    package var text: String { sections.map(\.text).joined(separator: Self.sectionSeparator) }

    static let sectionSeparator = "\n\n"

    /// "page 3", "pages 3, 5, 9" or "pages 3, 5, 9, 10, 11 and 12 more".
    package static func describe(pages: [Int]) -> String {
        let shown = pages.prefix(5).map(String.init).joined(separator: ", ")
        return pages.count > 5
            ? "pages \(shown) and \(pages.count - 5) more" : "page\(pages.count == 1 ? "" : "s") \(shown)"
    }
}

/// Why a document could not be read; reported for that document, never a stopped run.
package struct ExtractionError: Error, Sendable, Hashable, CustomStringConvertible {
    package var message: String

    package init(_ message: String) { self.message = message }

    package var description: String { message }
}

/// How one document is read: limits on what it may cost, and the encoding of text files.
package struct ExtractionOptions: Sendable, Hashable {
    package var maxBytes: Int
    package var maxPages: Int
    package var encoding: TextEncoding

    package init(maxBytes: Int = 50 << 20, maxPages: Int = 2000, encoding: TextEncoding = .auto) {
        self.maxBytes = maxBytes
        self.maxPages = maxPages
        self.encoding = encoding
    }
}
