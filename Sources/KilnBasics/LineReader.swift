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
        return buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }
}
