import Foundation
import KilnBasics
import KilnModel

/// The bytes of a text document as text, in the stage's `encoding:`. `auto` reads UTF-8 (skipping a byte-order
/// mark), UTF-16 by its byte-order mark, and anything else as Windows-1252 with a warning naming the first byte
/// that is not UTF-8 — so a Latin-1 file is searchable, and the warning says how to be explicit.
enum TextDecoding {
    static func decode(_ data: Data, as encoding: TextEncoding = .auto) throws(ExtractionError) -> (String, [String]) {
        let bytes = [UInt8](data)
        switch encoding {
        case .auto:
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return (try utf8(bytes.dropFirst(3)), []) }
            if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
                return (try utf16(bytes), ["decoded as UTF-16 (byte-order mark)"])
            }
            try refuseBinary(bytes[...])
            if let text = String(validating: bytes, as: UTF8.self) { return (text, []) }
            let offset = firstInvalidUTF8(bytes[...])
            return (
                windows1252(bytes[...]),
                [
                    "not UTF-8 (byte 0x\(hex(bytes[offset])) at offset \(offset)): decoded as Windows-1252; set "
                        + "`encoding:` on the ingest stage (utf-8, utf-16, windows-1252, latin-1) if that is wrong"
                ]
            )
        case .utf8:
            return (try utf8(bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes.dropFirst(3) : bytes[...]), [])
        case .utf16:
            return (try utf16(bytes), [])
        case .windows1252:
            try refuseBinary(bytes[...])
            return (windows1252(bytes[...]), [])
        case .latin1:
            try refuseBinary(bytes[...])
            return (TextEncoding.latin1.decodeSingleByte(bytes), [])
        }
    }

    private static func utf8(_ bytes: ArraySlice<UInt8>) throws(ExtractionError) -> String {
        try refuseBinary(bytes)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let offset = firstInvalidUTF8(bytes)
            throw ExtractionError(
                "the file is not UTF-8 (byte 0x\(hex(bytes[bytes.startIndex + offset])) at offset \(offset)); set "
                    + "`encoding: windows-1252` (or latin-1, utf-16) on the ingest stage, or leave `encoding` out "
                    + "to detect it"
            )
        }
        return text
    }

    /// UTF-16 by its byte-order mark, little-endian without one (as Windows writes it).
    private static func utf16(_ bytes: [UInt8]) throws(ExtractionError) -> String {
        let bigEndian = bytes.starts(with: [0xFE, 0xFF])
        let body = bytes.starts(with: [0xFF, 0xFE]) || bigEndian ? bytes.dropFirst(2) : bytes[...]
        guard body.count.isMultiple(of: 2),
            let text = String(data: Data(body), encoding: bigEndian ? .utf16BigEndian : .utf16LittleEndian)
        else {
            throw ExtractionError("the file is not valid UTF-16 (an odd number of bytes or a broken surrogate pair)")
        }
        return text
    }

    private static func refuseBinary(_ bytes: ArraySlice<UInt8>) throws(ExtractionError) {
        if let nul = bytes.firstIndex(of: 0) {
            throw ExtractionError("the file looks binary (a NUL byte at offset \(nul - bytes.startIndex)), not text")
        }
    }

    static func windows1252(_ bytes: ArraySlice<UInt8>) -> String { TextEncoding.windows1252.decodeSingleByte(bytes) }

    private static func hex(_ byte: UInt8) -> String { String(byte, radix: 16, uppercase: true) }

    private static func firstInvalidUTF8(_ bytes: ArraySlice<UInt8>) -> Int {
        TextPosition.firstInvalidUTF8(bytes) ?? max(0, bytes.count - 1)
    }
}
