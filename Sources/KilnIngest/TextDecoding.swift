import Foundation
import KilnBasics
import KilnModel

/// The bytes of a text document as text, in the stage's `encoding:`. `auto` reads UTF-8 (skipping a byte-order
/// mark), UTF-16 by its byte-order mark, and anything else as Windows-1252 with a warning naming the first byte
/// that is not UTF-8 — so a Latin-1 file is searchable, and the warning says how to be explicit.
enum TextDecoding {
    static func decode(_ data: Data, as encoding: TextEncoding = .auto) throws(ExtractionError) -> (String, [String]) {
        let bytes = [UInt8](data)
        // The byte-order mark and the unit, as `load` reads them too (`TextEncoding.layout`).
        let (layout, skip) = encoding.layout(head: bytes.prefix(3))
        let body = bytes[skip...]
        switch layout {
        case .utf16:
            guard let text = encoding.decode(bytes).text else {
                throw ExtractionError(
                    "the file is not valid UTF-16 (an odd number of bytes or a broken surrogate pair)")
            }
            return (text, encoding == .auto ? ["decoded as UTF-16 (byte-order mark)"] : [])
        case .singleByte(let single):
            try refuseBinary(body)
            return (single.decodeSingleByte(body), [])
        case .utf8:
            try refuseBinary(body)
            if let text = String(validating: body, as: UTF8.self) { return (text, []) }
            let offset = TextPosition.firstInvalidUTF8(body) ?? max(0, body.count - 1)
            let byte = hex(body[body.startIndex + offset])
            // Without a mark, `auto` reads what is not UTF-8 as Windows-1252 (a Latin-1 note stays searchable).
            if encoding == .auto, skip == 0 {
                return (
                    TextEncoding.windows1252.decodeSingleByte(body),
                    [
                        "not UTF-8 (byte 0x\(byte) at offset \(offset)): decoded as Windows-1252; set `encoding:` on "
                            + "the ingest stage (utf-8, utf-16, windows-1252, latin-1) if that is wrong"
                    ]
                )
            }
            throw ExtractionError(
                "the file is not UTF-8 (byte 0x\(byte) at offset \(offset)); set `encoding: windows-1252` (or latin-1, "
                    + "utf-16) on the ingest stage, or leave `encoding` out to detect it"
            )
        }
    }

    private static func refuseBinary(_ bytes: ArraySlice<UInt8>) throws(ExtractionError) {
        if let nul = bytes.firstIndex(of: 0) {
            throw ExtractionError("the file looks binary (a NUL byte at offset \(nul - bytes.startIndex)), not text")
        }
    }

    private static func hex(_ byte: UInt8) -> String { String(byte, radix: 16, uppercase: true) }
}
