/// Recognises API keys written literally where only a reference to an environment variable belongs.
enum SecretPatterns {
    /// A key shape: a fixed prefix, then at least `length` bytes of the key's alphabet.
    private struct Shape: Sendable {
        var prefix: [UInt8]
        var length: Int
        var allowsDashAndUnderscore: Bool
        /// `Bearer <token>`: blanks after the prefix, and dots in the token.
        var isBearer = false

        init(_ prefix: String, _ length: Int, dashes: Bool = true, bearer: Bool = false) {
            self.prefix = Array(prefix.utf8)
            self.length = length
            self.allowsDashAndUnderscore = dashes
            self.isBearer = bearer
        }

        func allows(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            case UInt8(ascii: "-"), UInt8(ascii: "_"): allowsDashAndUnderscore
            case UInt8(ascii: "."): isBearer
            default: false
            }
        }

        /// Whether this shape starts at `start` of `text`.
        func matches(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
            guard start + prefix.count <= text.count else { return false }
            var offset = 0
            while offset < prefix.count {
                if text[start + offset] != prefix[offset] { return false }
                offset += 1
            }
            var index = start + prefix.count
            if isBearer {
                let blanks = index
                while index < text.count, text[index] == 0x20 || text[index] == 0x09 || text[index] == 0x0A {
                    index += 1
                }
                if index == blanks { return false }
            }
            var run = 0
            while index < text.count, allows(text[index]), run < length {
                run += 1
                index += 1
            }
            return run >= length
        }
    }

    /// Key shapes of the providers Kiln users call; each is long enough not to match ordinary prose.
    private static let shapes = [
        Shape("sk-", 20), Shape("AIza", 30), Shape("gsk_", 20, dashes: false), Shape("fw_", 20, dashes: false),
        Shape("xai-", 20, dashes: false), Shape("hf_", 30, dashes: false), Shape("Bearer", 20, bearer: true),
        Shape("bearer", 20, bearer: true),
    ]

    /// Mapping keys that would hold a secret; a pipeline names the variable with `api_key_env` instead.
    static let secretKeyNames: Set<String> = [
        "api_key", "apikey", "api-key", "key", "token", "secret", "password", "authorization", "access_token",
    ]

    /// The shapes that start with each byte; a value is read once, and at each byte only these shapes are tried.
    private static let shapesByFirstByte = (0...255).map { byte in shapes.filter { $0.prefix[0] == byte } }

    /// Whether `text` holds a key shape; linear in its length (a 5 MB value is read once), no regex to compile.
    static func looksLikeSecret(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count >= 20 else { return false }
            var start = 0
            while start < bytes.count {
                for shape in shapesByFirstByte[Int(bytes[start])] where shape.matches(bytes, at: start) {
                    return true
                }
                start += 1
            }
            return false
        }
    }
}
