import CPoppler
import Foundation

/// An open poppler document, released when dropped. Confined to the thread that opened it: callers parallelise
/// across documents, never across pages of one.
final class PopplerDocument {
    let handle: OpaquePointer

    /// Opens `path`; an encrypted or unreadable file is an error that says so.
    init(path: String) throws(ExtractionError) {
        if let failure = kp_poppler_load() { throw ExtractionError("cannot read PDFs: \(String(cString: failure))") }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        var error: UnsafeMutablePointer<GError>?
        guard let uri = kp_g_filename_to_uri(absolute, nil, &error) else {
            throw ExtractionError("cannot name the file for poppler: \(Self.take(error))")
        }
        defer { kp_g_free(uri) }
        guard let document = kp_poppler_document_new_from_file(uri, nil, &error) else {
            let encrypted = error.map { $0.pointee.code == Int32(POPPLER_ERROR_ENCRYPTED) } ?? false
            let message = Self.take(error)
            if encrypted {
                throw ExtractionError(
                    "the PDF is encrypted and needs a password (decrypt it first, e.g. `qpdf --decrypt`)")
            }
            throw ExtractionError("the PDF cannot be opened: \(message)")
        }
        handle = document
    }

    deinit { kp_g_object_unref(UnsafeMutableRawPointer(handle)) }

    var pageCount: Int { Int(kp_poppler_document_get_n_pages(handle)) }

    /// Runs `body` with the 0-based page, released afterwards; nil when poppler has no such page.
    func withPage<Result, Failure: Error>(
        _ index: Int, _ body: (OpaquePointer) throws(Failure) -> Result
    ) throws(Failure) -> Result? {
        guard let page = kp_poppler_document_get_page(handle, Int32(index)) else { return nil }
        defer { kp_g_object_unref(UnsafeMutableRawPointer(page)) }
        return try body(page)
    }

    /// A GError's message, freeing it.
    static func take(_ error: UnsafeMutablePointer<GError>?) -> String {
        guard let error else { return "unknown error" }
        defer { kp_g_error_free(error) }
        return error.pointee.message.map { String(cString: $0) } ?? "unknown error"
    }
}
