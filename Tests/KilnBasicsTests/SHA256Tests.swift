import Foundation
import Testing

@testable import KilnBasics

@Suite struct SHA256Digests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (String(repeating: "a", count: 1000), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"),
        ("é😀", "1184d1f608158eea09d297565575892231550c403aaa913008d867a97cfd5c76"),
    ])
    func matchesReferenceVectors(input: String, digest: String) {
        #expect(SHA256.hex(input) == digest)
    }
}

@Suite struct SHA256Streaming {
    @Test(arguments: [1, 7, 63, 64, 65, 200])
    func splittingTheInputAnywhereGivesTheSameDigest(split: Int) {
        let text = String(repeating: "kiln-pipe é ", count: 40)
        let bytes = Array(text.utf8)
        var hasher = SHA256()
        bytes[..<split].withUnsafeBytes { hasher.update(bytes: $0) }
        hasher.update(bytes[split...])
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        #expect(digest == SHA256.hex(text))
    }
}

@Suite struct SHA256Files {
    @Test func aFileHashesLikeItsContents() throws {
        let text = String(repeating: "0123456789abcdef", count: 200_000) + "é"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(SHA256.hex(ofFileAt: path) == SHA256.hex(text))
        #expect(SHA256.hex(ofFileAt: path + ".missing") == nil)
    }
}
