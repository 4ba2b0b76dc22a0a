/// Where a byte sits in a text file, as editors count: line and column from 1 (columns in characters of the
/// line's valid prefix), so a decoding problem is located as FILE:LINE:COL.
package enum TextPosition {
    /// The 1-based line and column of byte `offset` in `bytes`.
    package static func of(offset: Int, in bytes: some Collection<UInt8>) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        for (index, byte) in bytes.prefix(offset).enumerated() where byte == 0x0A {
            line += 1
            lineStart = index + 1
        }
        let prefix = Array(bytes.dropFirst(lineStart).prefix(max(0, offset - lineStart)))
        return (line, String(decoding: prefix, as: UTF8.self).count + 1)
    }

    /// Offset of the first byte that does not start or continue a well-formed UTF-8 sequence; nil when all do.
    package static func firstInvalidUTF8(_ bytes: some Collection<UInt8>) -> Int? {
        let bytes = Array(bytes)
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length =
                lead < 0x80 ? 1 : lead >> 5 == 0b110 ? 2 : lead >> 4 == 0b1110 ? 3 : lead >> 3 == 0b11110 ? 4 : 0
            guard length > 0, index + length <= bytes.count,
                bytes[(index + 1)..<(index + length)].allSatisfy({ $0 >> 6 == 0b10 })
            else { return index }
            index += length
        }
        return nil
    }
}
