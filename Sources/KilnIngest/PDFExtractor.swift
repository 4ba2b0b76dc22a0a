import CPoppler
import Foundation

/// PDF text page by page through poppler-glib (the library behind `pdftotext`).
enum PDFExtractor {
    static func extract(path: String, maxPages: Int) throws(ExtractionError) -> ExtractedDocument {
        try checkComplete(path: path)
        let document = try PopplerDocument(path: path)
        let pageCount = document.pageCount
        guard pageCount <= maxPages else {
            throw ExtractionError(
                "the PDF has \(pageCount) pages, more than max_pages (\(maxPages)); raise max_pages to read it")
        }
        var sections: [DocumentSection] = []
        var empty: [Int] = []
        for index in 0..<pageCount {
            let text =
                document.withPage(index) { page in
                    guard let raw = kp_poppler_page_get_text(page) else { return "" }
                    defer { kp_g_free(raw) }
                    return String(cString: raw)
                } ?? ""
            if text.allSatisfy(\.isWhitespace) { empty.append(index + 1) }
            sections.append(DocumentSection(text: text, page: index + 1))
        }
        var warnings: [String] = []
        if !empty.isEmpty {
            warnings.append(
                empty.count == pageCount
                    ? "no page has text (a scanned PDF? it needs OCR or LLM extraction)"
                    : "\(empty.count) page\(empty.count == 1 ? "" : "s") without text "
                        + "(\(ExtractedDocument.describe(pages: empty)))"
            )
        }
        if pageCount == 0 { throw ExtractionError("the PDF has no pages") }
        return ExtractedDocument(
            format: .pdf, sections: sections, pageCount: pageCount, warnings: warnings, pagesWithoutText: empty)
    }

    /// poppler quietly rebuilds a damaged cross-reference table, so a cut-off download would pass as a shorter
    /// document: a PDF must end with its `%%EOF` marker (within the last KB, as PDF readers allow).
    private static func checkComplete(path: String) throws(ExtractionError) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ExtractionError("cannot open the file") }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 5)) ?? Data()
        guard header.starts(with: Array("%PDF-".utf8)) else {
            throw ExtractionError("not a PDF (the file does not start with %PDF-)")
        }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 1024 ? size - 1024 : 0)
        let tail = (try? handle.readToEnd()) ?? Data()
        guard tail.range(of: Data("%%EOF".utf8)) != nil else {
            throw ExtractionError(
                "the PDF is truncated (no %%EOF marker at its end): was the download or copy complete?")
        }
    }
}
