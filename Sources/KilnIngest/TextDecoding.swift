import Foundation

/// Text files are UTF-8; UTF-16 with a byte-order mark is detected; anything else is a clear error.
enum TextDecoding {
    static func decode(_ data: Data) throws(ExtractionError) -> (String, [String]) {
        let bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            return (try utf8(bytes.dropFirst(3)), [])
        }
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            let encoding: String.Encoding = bytes[0] == 0xFF ? .utf16LittleEndian : .utf16BigEndian
            guard let text = String(data: Data(bytes.dropFirst(2)), encoding: encoding) else {
                throw ExtractionError("the file starts with a UTF-16 byte-order mark but is not valid UTF-16")
            }
            return (text, ["decoded as UTF-16 (byte-order mark)"])
        }
        return (try utf8(bytes[...]), [])
    }

    private static func utf8(_ bytes: ArraySlice<UInt8>) throws(ExtractionError) -> String {
        if let nul = bytes.firstIndex(of: 0) {
            throw ExtractionError("the file looks binary (a NUL byte at offset \(nul - bytes.startIndex)), not text")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let offset = firstInvalidUTF8(bytes)
            let byte = String(bytes[bytes.startIndex + offset], radix: 16, uppercase: true)
            throw ExtractionError(
                "the file is not UTF-8 (byte 0x\(byte) at offset \(offset)); convert it first, e.g. `iconv -f "
                    + "WINDOWS-1252 -t UTF-8`"
            )
        }
        return text
    }

    /// Offset of the first byte that does not start or continue a well-formed UTF-8 sequence.
    private static func firstInvalidUTF8(_ bytes: ArraySlice<UInt8>) -> Int {
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
        return max(0, bytes.count - 1)
    }
}
