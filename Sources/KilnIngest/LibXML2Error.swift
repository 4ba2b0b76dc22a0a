import CLibXML2
import Foundation

/// libxml2's last error on this thread, as one line: the parsers run with their messages off standard error, and
/// what went wrong goes into the document's failure reason instead.
enum LibXML2Error {
    static var last: String? {
        guard let error = xmlGetLastError(), let message = error.pointee.message else { return nil }
        let text = String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return nil }
        return error.pointee.line > 0 ? "libxml2, line \(error.pointee.line): \(text)" : "libxml2: \(text)"
    }
}
