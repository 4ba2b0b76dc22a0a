import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reads a text file line by line with `getline`: memory stays at one line, whatever the file's size.
/// Not thread-safe; use one reader per task. Lines are returned without their `\n` (and `\r\n`).
package final class LineReader {
    private let file: UnsafeMutablePointer<FILE>
    private var buffer: UnsafeMutablePointer<CChar>?
    private var capacity = 0
    /// The 1-based number of the line last returned.
    package private(set) var lineNumber = 0
    /// Where the line last returned stopped being UTF-8 (its bytes were decoded with U+FFFD replacements): the
    /// byte and its 1-based column; nil for a valid line.
    package private(set) var invalidUTF8: (byte: UInt8, column: Int)?

    package init(path: String) throws {
        guard let file = fopen(path, "r") else { throw POSIXError(.init(rawValue: errno) ?? .ENOENT) }
        self.file = file
    }

    deinit {
        free(buffer)
        fclose(file)
    }

    package func next() -> String? {
        let count = getline(&buffer, &capacity, file)
        guard count >= 0, let buffer else { return nil }
        lineNumber += 1
        var length = count
        if length > 0, buffer[length - 1] == 0x0A { length -= 1 }
        if length > 0, buffer[length - 1] == 0x0D { length -= 1 }
        return buffer.withMemoryRebound(to: UInt8.self, capacity: length) { start in
            var bytes = UnsafeBufferPointer(start: start, count: length)
            // A UTF-8 byte-order mark is not part of the first line's text.
            if lineNumber == 1, bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
                bytes = UnsafeBufferPointer(rebasing: bytes.dropFirst(3))
            }
            if let text = String(validating: bytes, as: UTF8.self) {
                invalidUTF8 = nil
                return text
            }
            let offset = TextPosition.firstInvalidUTF8(bytes) ?? 0
            invalidUTF8 = (
                bytes[offset],
                String(decoding: UnsafeBufferPointer(rebasing: bytes[..<offset]), as: UTF8.self).count + 1
            )
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
