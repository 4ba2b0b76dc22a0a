import KilnBasics

/// Byte-level mutations of a seed input, seeded so a run can be repeated: flips, inserts of tokens the parsers
/// treat specially (YAML anchors and merge keys, quotes, brackets, markup, invalid UTF-8, NUL), deletions,
/// repeated ranges (deep nesting, long values) and splices with another seed.
struct Mutator {
    var random: SplitMix64

    static let tokens: [[UInt8]] =
        [
            "*a", "&a ", "<<: *a", "- ", ": ", "[", "]", "{", "}", "\"", "'", ",", "\n", "\r\n", "  ", "#", "!!binary ",
            "${", "}", "|\n", ">-\n", "---\n", "...", "<div>", "</div>", "<p>", "<!DOCTYPE x [<!ENTITY e \"x\">]>",
            "&e;",
            "<w:p><w:r><w:t>", "</w:t></w:r></w:p>", "<![CDATA[", "]]>", "<!--", "-->", "\"\"", "\\",
            "{\"input\": ", "null", "1e999", "-0", "\u{FEFF}", "\u{202E}", "é",
        ].map { Array($0.utf8) } + [[0x00], [0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xEF, 0xBB, 0xBF], [0xFF, 0xFE]]

    mutating func int(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(random.next() % UInt64(bound)) }

    /// One to eight stacked mutations of `seed`; `other` is spliced in sometimes.
    mutating func mutate(_ seed: [UInt8], other: [UInt8]) -> [UInt8] {
        var bytes = seed
        for _ in 0...int(8) {
            let at = int(bytes.count + 1)
            switch int(7) {
            case 0 where !bytes.isEmpty:
                bytes[min(at, bytes.count - 1)] ^= UInt8(1 << int(8))
            case 1:
                bytes.insert(contentsOf: Self.tokens[int(Self.tokens.count)], at: at)
            case 2 where !bytes.isEmpty:
                let length = min(int(64) + 1, bytes.count - min(at, bytes.count - 1))
                bytes.removeSubrange(min(at, bytes.count - 1)..<min(at, bytes.count - 1) + length)
            case 3 where !bytes.isEmpty:
                // A range repeated up to 2,000 times: nesting and long values.
                let start = min(at, bytes.count - 1)
                let range = Array(bytes[start..<min(bytes.count, start + int(16) + 1)])
                let times = [2, 10, 100, 2_000][int(4)]
                bytes.insert(contentsOf: Array(repeating: range, count: times).joined(), at: start)
            case 4 where !other.isEmpty:
                let start = int(other.count)
                bytes.insert(contentsOf: other[start..<min(other.count, start + int(256) + 1)], at: at)
            case 5:
                bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
            default:
                bytes.removeSubrange(min(at, bytes.count)...)
            }
            if bytes.count > 4 << 20 { bytes.removeSubrange((4 << 20)...) }
        }
        return bytes
    }
}
