import Foundation

/// Reads a file of any supported format into text. Blocking C work (poppler, libxml2): call it off Swift's
/// cooperative pool (see `BlockingQueue`).
package enum DocumentExtractor {
    /// The version of the extraction rules: part of every cache key, so a change re-extracts.
    package static let version = "extract-1"

    /// What can be known of a file before reading a byte of it: it must be a regular file (a FIFO, socket or
    /// device is never opened: reading one can hang) no larger than `max_file_mb`. Returns its size.
    package static func admit(path: String, options: ExtractionOptions) throws(ExtractionError) -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ExtractionError("cannot read the file: \(String(cString: strerror(errno)))")
        }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG else {
            let kind =
                type == S_IFIFO ? "a FIFO" : type == S_IFSOCK ? "a socket" : type == S_IFDIR ? "a folder" : "a device"
            throw ExtractionError("not a regular file (\(kind)): never opened")
        }
        let size = Int(info.st_size)
        guard size <= options.maxBytes else {
            throw ExtractionError(
                "the file has \(size >> 20) MB, more than max_file_mb (\(options.maxBytes >> 20)); raise "
                    + "max_file_mb to read it"
            )
        }
        return size
    }

    package static func extract(
        path: String, options: ExtractionOptions = ExtractionOptions()
    ) throws(ExtractionError)
        -> ExtractedDocument
    {
        guard let format = DocumentFormat(path: path) else {
            throw ExtractionError(
                "unsupported file type (ingest reads .pdf, .html, .docx, .md, .txt, and images with "
                    + "extraction_provider)"
            )
        }
        let size = try admit(path: path, options: options)
        guard size > 0 else { throw ExtractionError("the file is empty") }
        switch format {
        case .pdf: return try PDFExtractor.extract(path: path, maxPages: options.maxPages)
        case .image: return ExtractedDocument(format: .image, sections: [], pagesWithoutText: [1])
        case .docx: return try DOCXExtractor.extract(path: path, size: size)
        case .html, .markdown, .text:
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                throw ExtractionError("cannot read the file: \(error.localizedDescription)")
            }
            if format == .html { return try HTMLExtractor.extract(data) }
            let (text, warnings) = try TextDecoding.decode(data, as: options.encoding)
            let sections = format == .markdown ? MarkdownSections.split(text) : [DocumentSection(text: text)]
            return ExtractedDocument(format: format, sections: sections, warnings: warnings)
        }
    }
}
