import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reads a text file line by line with `getline`: memory stays at one line, whatever the file's size.
/// Not thread-safe; use one reader per task. Lines are returned without their `\n` (and `\r\n`).
///
/// The file's first bytes choose how its lines decode (`TextEncoding.layout`): a UTF-8 byte-order mark is skipped,
/// UTF-16 is read by its byte-order mark (or `encoding: utf-16`), a single-byte encoding on request.
package final class LineReader {
    private let file: UnsafeMutablePointer<FILE>
    private var buffer: UnsafeMutablePointer<CChar>?
    private var capacity = 0
    /// How the lines decode.
    package let layout: TextEncoding.Layout
    /// The 1-based number of the line last returned.
    package private(set) var lineNumber = 0
    /// Where the line last returned stopped being valid text in `layout` (it was decoded with U+FFFD
    /// replacements): the byte and its 1-based column; nil for a valid line.
    package private(set) var undecodable: (byte: UInt8, column: Int)?

    package init(path: String, encoding: TextEncoding = .auto) throws {
        guard let file = fopen(path, "r") else { throw POSIXError(.init(rawValue: errno) ?? .ENOENT) }
        self.file = file
        var head = [UInt8](repeating: 0, count: 3)
        head.removeLast(3 - fread(&head, 1, 3, file))
        let (layout, skip) = encoding.layout(head: head)
        self.layout = layout
        fseek(file, skip, SEEK_SET)
    }

    deinit {
        free(buffer)
        fclose(file)
    }

    package func next() -> String? {
        if case .utf16(let bigEndian) = layout { return nextUTF16(bigEndian: bigEndian) }
        let count = getline(&buffer, &capacity, file)
        guard count >= 0, let buffer else { return nil }
        lineNumber += 1
        var length = count
        if length > 0, buffer[length - 1] == 0x0A { length -= 1 }
        if length > 0, buffer[length - 1] == 0x0D { length -= 1 }
        return buffer.withMemoryRebound(to: UInt8.self, capacity: length) { start in
            let bytes = UnsafeBufferPointer(start: start, count: length)
            undecodable = nil
            if case .singleByte(let encoding) = layout { return encoding.decodeSingleByte(bytes) }
            if let text = String(validating: bytes, as: UTF8.self) { return text }
            let offset = TextPosition.firstInvalidUTF8(bytes) ?? 0
            undecodable = (
                bytes[offset],
                String(decoding: UnsafeBufferPointer(rebasing: bytes[..<offset]), as: UTF8.self).count + 1
            )
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// A UTF-16 line: `getline` stops at every 0x0A byte, which ends the line only when it is the newline code
    /// unit (not half of another character, such as U+010A).
    private func nextUTF16(bigEndian: Bool) -> String? {
        var bytes: [UInt8] = []
        while true {
            let count = getline(&buffer, &capacity, file)
            guard count > 0, let buffer else { break }
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: count))
            if bigEndian {
                if bytes.count.isMultiple(of: 2), bytes[bytes.count - 2] == 0 { break }
            } else if !bytes.count.isMultiple(of: 2) {
                let high = getc(file)
                if high == EOF { break }
                bytes.append(UInt8(high))
                if high == 0 { break }
            }
        }
        guard !bytes.isEmpty else { return nil }
        lineNumber += 1
        var units = TextEncoding.utf16Units(bytes[...], bigEndian: bigEndian)
        if units.last == 0x0A { units.removeLast() }
        if units.last == 0x0D { units.removeLast() }
        undecodable = nil
        if let broken = TextEncoding.firstBrokenUTF16Unit(units) {
            let offset = broken * 2
            undecodable = (bytes[offset + (bigEndian ? 0 : 1)], broken + 1)
        } else if !bytes.count.isMultiple(of: 2) {
            undecodable = (bytes[bytes.count - 1], units.count + 1)
        }
        return String(decoding: units, as: UTF16.self)
    }
}
