import KilnIngest
import KilnModel
import Testing

@Suite struct Chunking {
    static let document = ExtractedDocument(
        format: .pdf,
        sections: [
            DocumentSection(text: "one two three four five six seven eight nine ten", page: 1),
            DocumentSection(text: "eleven twelve thirteen\n\nfourteen fifteen", page: 2),
        ], pageCount: 2)

    static func scalars(_ text: String, _ range: Range<Int>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: Array(text.unicodeScalars)[range])
        return String(view)
    }

    @Test(arguments: [
        // size, overlap, expected chunk texts (words ≤ 4 characters cost 1 token; 5–8 cost 2)
        (
            4, 0,
            ["one two three", "four five six", "seven eight", "nine ten eleven", "twelve thirteen", "fourteen fifteen"]
        ),
        // Overlap steps back over whole words only: after "three" (2 tokens) there is none, after "six" one word.
        (
            4, 1,
            [
                "one two three", "four five six", "six seven", "eight nine ten", "ten eleven", "twelve thirteen",
                "fourteen fifteen",
            ]
        ),
    ])
    func fixedWindowsCutBetweenWordsWithOverlap(_ size: Int, _ overlap: Int, _ expected: [String]) {
        let chunks = Chunker(settings: ChunkerSettings(kind: .fixedWindow, size: size, overlap: overlap)).chunks(
            of: Self.document)
        #expect(chunks.map { $0.text.split(whereSeparator: \.isWhitespace).joined(separator: " ") } == expected)
        #expect(chunks.map(\.index) == Array(chunks.indices))
        for chunk in chunks {
            #expect(chunk.tokens <= size || chunk.text.split(whereSeparator: \.isWhitespace).count == 1)
            #expect(Self.scalars(Self.document.text, chunk.start..<chunk.end) == chunk.text)
        }
        #expect(chunks.first?.page == 1)
        #expect(chunks.last?.page == 2)
    }

    @Test func semanticChunksFollowHeadingsAndParagraphs() {
        let document = ExtractedDocument(
            format: .markdown,
            sections: [
                DocumentSection(text: "# Intro\n\nshort one.\n\nshort two.", headings: ["Intro"]),
                DocumentSection(
                    text: "## Details\n\n" + Array(repeating: "word", count: 30).joined(separator: " "),
                    headings: ["Intro", "Details"]),
            ])
        let chunks = Chunker(settings: ChunkerSettings(kind: .semantic, size: 12, overlap: 0)).chunks(of: document)
        // The intro's paragraphs merge; the heading change starts a new chunk; the long paragraph is windowed.
        #expect(
            chunks.map(\.text) == [
                "# Intro\n\nshort one.\n\nshort two.", "## Details",
                Array(repeating: "word", count: 12).joined(separator: " "),
                Array(repeating: "word", count: 12).joined(separator: " "),
                Array(repeating: "word", count: 6).joined(separator: " "),
            ])
        #expect(
            chunks.map(\.headings) == [
                ["Intro"], ["Intro", "Details"], ["Intro", "Details"], ["Intro", "Details"], ["Intro", "Details"],
            ])
        for chunk in chunks { #expect(Self.scalars(document.text, chunk.start..<chunk.end) == chunk.text) }
    }

    @Test(arguments: [("", 0), ("a", 1), ("four", 1), ("fives", 2), ("extraordinary ü", 5), ("  two  words ", 3)])
    func tokenApproximation(_ text: String, _ tokens: Int) {
        #expect(TokenCount.of(text) == tokens)
    }
}
