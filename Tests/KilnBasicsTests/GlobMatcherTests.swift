import Foundation
import KilnBasics
import Testing

/// Globs as pipelines write them, walked one segment per folder level, and names that cannot be matched reported.
@Suite struct GlobMatching {
    static let tree = [
        "docs/a.md", "docs/b.txt", "docs/.hidden.md", "docs/sub/c.md", "docs/sub/deeper/d.md", "other/e.md", "f.md",
    ]

    static func makeTree() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-glob-\(UUID().uuidString)")
        for path in tree {
            let file = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("x".utf8).write(to: file)
        }
        return root
    }

    @Test(arguments: [
        ("docs", ["docs/.hidden.md", "docs/a.md", "docs/b.txt", "docs/sub/c.md", "docs/sub/deeper/d.md"]),
        ("docs/*.md", ["docs/.hidden.md", "docs/a.md"]),
        ("docs/**/*.md", ["docs/.hidden.md", "docs/a.md", "docs/sub/c.md", "docs/sub/deeper/d.md"]),
        ("*/*.md", ["docs/.hidden.md", "docs/a.md", "other/e.md"]),
        ("*/sub/*.md", ["docs/sub/c.md"]),
        ("**/d.md", ["docs/sub/deeper/d.md"]),
        ("docs/su?/[c]*", ["docs/sub/c.md"]),
        ("f.md", ["f.md"]),
        ("missing/*.md", []),
    ])
    func matches(_ pattern: String, _ expected: [String]) throws {
        let root = try Self.makeTree()
        defer { try? FileManager.default.removeItem(at: root) }
        let found = GlobMatcher.files(matching: pattern, base: root.path).map {
            String($0.dropFirst(root.path.count + 1))
        }
        #expect(found == expected)
    }

    /// A name that is not UTF-8, or holds a line break, is listed for the caller to report, never dropped.
    @Test func namesThatCannotBeMatchedAreListed() throws {
        let root = try Self.makeTree()
        defer { try? FileManager.default.removeItem(at: root) }
        var bytes = Array((root.path + "/docs/caf").utf8) + [0xE9] + Array(".md".utf8) + [0]
        let descriptor = bytes.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                open($0, O_WRONLY | O_CREAT, 0o644)
            }
        }
        #expect(descriptor >= 0)
        close(descriptor)
        try Data("x".utf8).write(to: root.appendingPathComponent("docs/two\nlines.md"))
        let walk = GlobMatcher.walk(matching: "docs/*.md", base: root.path)
        #expect(
            walk.badNames.map { String($0.dropFirst(root.path.count + 1)) } == [
                "docs/caf\\xE9.md", "docs/two\\nlines.md",
            ])
        #expect(walk.files.count == 2)
    }
}
