/// How the bytes of a text file become text: a document's (`ingest`) or a data file's (`load`).
package enum TextEncoding: String, Sendable, Hashable, CaseIterable {
    /// UTF-8 (a byte-order mark is skipped) or UTF-16 by its byte-order mark. Bytes that are not UTF-8 are a
    /// document decoded as Windows-1252 with a warning (`ingest`), a bad row (`load`).
    case auto
    case utf8 = "utf-8"
    /// Little-endian unless a byte-order mark says otherwise.
    case utf16 = "utf-16"
    case windows1252 = "windows-1252"
    case latin1 = "latin-1"

    /// How the file's first bytes say to read it: its unit and how many byte-order-mark bytes to skip.
    package enum Layout: Sendable, Equatable {
        case utf8
        case utf16(bigEndian: Bool)
        case singleByte(TextEncoding)

        /// The encoding's name as a message says it.
        package var name: String {
            switch self {
            case .utf8: "UTF-8"
            case .utf16(let bigEndian): bigEndian ? "UTF-16BE" : "UTF-16LE"
            case .singleByte(let encoding): encoding == .latin1 ? "Latin-1" : "Windows-1252"
            }
        }
    }

    /// The layout of a file that starts with `head` (its first bytes) and the byte-order-mark bytes to skip.
    package func layout(head: some Collection<UInt8>) -> (layout: Layout, skip: Int) {
        let utf8BOM = head.starts(with: [0xEF, 0xBB, 0xBF])
        let littleBOM = head.starts(with: [0xFF, 0xFE])
        let bigBOM = head.starts(with: [0xFE, 0xFF])
        switch self {
        case .auto where littleBOM || bigBOM, .utf16:
            return (.utf16(bigEndian: bigBOM), littleBOM || bigBOM ? 2 : 0)
        case .auto, .utf8: return (.utf8, utf8BOM ? 3 : 0)
        case .windows1252, .latin1: return (.singleByte(self), 0)
        }
    }

    /// A whole file's bytes as text, strictly: nil with the offset of the first byte that does not decode (a data
    /// file is never read with U+FFFD replacements behind the user's back).
    package func decode(_ bytes: [UInt8]) -> (text: String?, layout: Layout, badOffset: Int) {
        let (layout, skip) = layout(head: bytes.prefix(3))
        let body = bytes[skip...]
        switch layout {
        case .utf8:
            if let text = String(validating: body, as: UTF8.self) { return (text, layout, 0) }
            return (nil, layout, skip + (TextPosition.firstInvalidUTF8(body) ?? 0))
        case .singleByte(let encoding):
            return (encoding.decodeSingleByte(body), layout, 0)
        case .utf16(let bigEndian):
            let units = Self.utf16Units(body, bigEndian: bigEndian)
            if let broken = Self.firstBrokenUTF16Unit(units) { return (nil, layout, skip + 2 * broken) }
            if !body.count.isMultiple(of: 2) { return (nil, layout, bytes.count - 1) }
            return (String(decoding: units, as: UTF16.self), layout, 0)
        }
    }

    /// Bytes of a single-byte encoding as text (every byte is a character; nothing is undecodable).
    /// Windows-1252 is Latin-1 except 0x80–0x9F, which hold typographic marks; the five bytes it leaves undefined
    /// map to the C1 controls of the same value, as browsers do.
    package func decodeSingleByte(_ bytes: some Collection<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.reserveCapacity(bytes.count)
        for byte in bytes {
            let value =
                self == .windows1252 && (0x80...0x9F).contains(byte) ? Self.cp1252High[Int(byte) - 0x80] : UInt32(byte)
            scalars.append(Unicode.Scalar(value) ?? Unicode.Scalar(byte))
        }
        return String(scalars)
    }

    private static let cp1252High: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,
        0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
        0x0153, 0x9D, 0x017E, 0x0178,
    ]

    /// Pairs of bytes as UTF-16 code units (an odd last byte is left out).
    package static func utf16Units(_ bytes: ArraySlice<UInt8>, bigEndian: Bool) -> [UInt16] {
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2)
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex {
            let (high, low) = bigEndian ? (bytes[index], bytes[index + 1]) : (bytes[index + 1], bytes[index])
            units.append(UInt16(high) << 8 | UInt16(low))
            index += 2
        }
        return units
    }

    /// The index of the first UTF-16 code unit that is half of a broken surrogate pair; nil when all decode.
    package static func firstBrokenUTF16Unit(_ units: [UInt16]) -> Int? {
        var index = 0
        while index < units.count {
            let unit = units[index]
            if UTF16.isLeadSurrogate(unit) {
                guard index + 1 < units.count, UTF16.isTrailSurrogate(units[index + 1]) else { return index }
                index += 2
            } else if UTF16.isTrailSurrogate(unit) {
                return index
            } else {
                index += 1
            }
        }
        return nil
    }
}
