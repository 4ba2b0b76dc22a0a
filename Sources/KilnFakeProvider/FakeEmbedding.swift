import Foundation
import KilnBasics

/// The fake model's answer to an embeddings request: each input becomes a hashed bag of its lower-cased words
/// (256 dimensions, unit length), so texts that share words are near each other and vector search over the fake
/// behaves like a (lexical) embedding model — deterministic, and good enough to test ranking plumbing. Like
/// OpenAI's text-embedding-3 models it honours `dimensions` (the vector cut to that length and normalised again)
/// and `encoding_format: base64` (little-endian float32s).
struct FakeEmbedding {
    static let dimensions = 256
    let body: JSONValue

    var json: JSONValue {
        let inputs: [String]
        if let array = body["input"]?.arrayValue {
            inputs = array.map { $0.stringValue ?? $0.serialized() }
        } else {
            inputs = [body["input"]?.stringValue ?? ""]
        }
        let wanted = body["dimensions"]?.numberValue.map { Int($0) }
        let base64 = body["encoding_format"]?.stringValue == "base64"
        var tokens = 0
        let data = inputs.enumerated().map { index, text -> JSONValue in
            let words = FakeTokenizer.tokens(text.lowercased()).filter {
                $0.first?.isLetter == true || $0.first?.isNumber == true
            }
            tokens += words.count
            return .object(
                JSONObject([
                    ("object", .string("embedding")), ("index", .integer(index)),
                    (
                        "embedding",
                        Self.encode(Self.vector(words, dimensions: wanted ?? Self.dimensions), base64: base64)
                    ),
                ]))
        }
        return .object(
            JSONObject([
                ("object", .string("list")), ("data", .array(data)),
                ("model", body["model"] ?? .string("fake-embedding")),
                (
                    "usage",
                    .object(JSONObject([("prompt_tokens", .integer(tokens)), ("total_tokens", .integer(tokens))]))
                ),
            ]))
    }

    /// What OpenAI would refuse with a 400 in an embeddings request, if anything.
    static func problem(in body: JSONValue) -> String? {
        guard let wanted = body["dimensions"]?.numberValue, !(1...Double(dimensions)).contains(wanted) else {
            return nil
        }
        return "dimensions must be between 1 and \(dimensions) for this model, not \(wanted.compactDescription)"
    }

    private static func encode(_ vector: [Float], base64: Bool) -> JSONValue {
        guard base64 else { return .array(vector.map { .double(Double($0)) }) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vector.count * 4)
        for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return .string(Data(bytes).base64EncodedString())
    }

    /// The bag of words hashed into 256 buckets, cut to `length` and normalised.
    static func vector(_ words: [String], dimensions length: Int = dimensions) -> [Float] {
        var vector = [Float](repeating: 0, count: dimensions)
        for word in words {
            // FNV-1a of the word's stem (a trailing plural "s" dropped): the bucket and the sign.
            let stem = word.count > 3 && word.hasSuffix("s") ? String(word.dropLast()) : word
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in stem.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            vector[Int(hash % UInt64(dimensions))] += (hash >> 63) == 0 ? 1 : -1
        }
        vector = Array(vector.prefix(length))
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        // Three decimals keep the JSON short and the value exact across platforms.
        return vector.map { norm > 0 ? (($0 / norm) * 1000).rounded() / 1000 : 0 }
    }
}
