import CLibXML2
import Foundation

/// libxml2's last error on this thread, as one line: the parsers run with their messages off standard error, and
/// what went wrong goes into the document's failure reason instead.
enum LibXML2Error {
    /// Keeps libxml2's messages off standard error on this thread (its settings are per thread), including the
    /// ones its parse options cannot silence, such as a failed encoding conversion: each still becomes `last`.
    static func keepOffStandardError() {
        xmlSetStructuredErrorFunc(nil) { _, _ in }
    }

    /// Whether the last error was a failed conversion from the document's declared encoding (the parse stops there).
    static var lastIsEncoding: Bool {
        guard let error = xmlGetLastError() else { return false }
        return error.pointee.domain == Int32(XML_FROM_I18N.rawValue)
            || error.pointee.domain == Int32(XML_FROM_IO.rawValue)
    }

    static var last: String? {
        guard let error = xmlGetLastError(), let message = error.pointee.message else { return nil }
        let text = String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return nil }
        return error.pointee.line > 0 ? "libxml2, line \(error.pointee.line): \(text)" : "libxml2: \(text)"
    }
}
