package import KilnModel

/// One piece of a document, as indexed and searched.
package struct DocumentChunk: Sendable, Hashable {
    /// 0-based position in the document.
    package var index: Int
    package var text: String
    /// Offsets into `ExtractedDocument.text`, in Unicode scalars (Python's string indices): `start..<end`.
    package var start: Int
    package var end: Int
    /// The page the chunk starts on (PDF).
    package var page: Int?
    /// Headings above the chunk's start, outermost first.
    package var headings: [String]
    /// Approximate tokens (see `TokenCount`).
    package var tokens: Int

    package init(index: Int, text: String, start: Int, end: Int, page: Int?, headings: [String], tokens: Int) {
        self.index = index
        self.text = text
        self.start = start
        self.end = end
        self.page = page
        self.headings = headings
        self.tokens = tokens
    }
}

/// Approximate token counts without a model's tokenizer: each whitespace-separated word costs one token per
/// started 4 characters (about what BPE tokenizers give English prose, more for long or non-Latin words). Chunk
/// sizes are therefore approximate; they are deterministic, which is what the cache and reruns need.
package enum TokenCount {
    package static func of(word scalars: Int) -> Int { max(1, (scalars + 3) / 4) }

    package static func of(_ text: String) -> Int {
        var total = 0
        var run = 0
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace {
                if run > 0 { total += of(word: run) }
                run = 0
            } else {
                run += 1
            }
        }
        return run > 0 ? total + of(word: run) : total
    }
}

/// Cuts an extracted document into chunks: `fixed_window` (windows of `size` tokens overlapping by `overlap`,
/// cut between words) or `semantic` (paragraphs within one heading section, merged up to `size` tokens; a longer
/// paragraph is windowed).
package struct Chunker: Sendable {
    package static let version = "chunk-1"
    package let settings: ChunkerSettings

    package init(settings: ChunkerSettings) { self.settings = settings }

    package func chunks(of document: ExtractedDocument) -> [DocumentChunk] {
        let text = document.text
        let scalars = Array(text.unicodeScalars)
        let words = Self.words(in: scalars)
        let sectionStarts = Self.sectionStarts(document)
        func chunk(_ range: Range<Int>, index: Int) -> DocumentChunk {
            let start = words[range.lowerBound].start
            let end = words[range.upperBound - 1].end
            let section = sectionStarts.lastIndex { $0.offset <= start }.map { document.sections[$0] }
            var piece = String.UnicodeScalarView()
            piece.append(contentsOf: scalars[start..<end])
            return DocumentChunk(
                index: index, text: String(piece), start: start, end: end, page: section?.page,
                headings: section?.headings ?? [], tokens: words[range].reduce(0) { $0 + $1.tokens })
        }
        var ranges: [Range<Int>] = []
        switch settings.kind {
        case .fixedWindow:
            ranges = windows(words.indices, words: words, overlap: settings.overlap)
        case .semantic:
            var block: Range<Int>?
            var blockTokens = 0
            for paragraph in Self.paragraphs(words: words, scalars: scalars, sectionStarts: sectionStarts.map(\.offset))
            {
                let tokens = words[paragraph.range].reduce(0) { $0 + $1.tokens }
                if let current = block, paragraph.startsSection || blockTokens + tokens > settings.size {
                    ranges.append(current)
                    block = nil
                    blockTokens = 0
                }
                if tokens > settings.size {
                    ranges += windows(paragraph.range, words: words, overlap: 0)
                    continue
                }
                block = block.map { $0.lowerBound..<paragraph.range.upperBound } ?? paragraph.range
                blockTokens += tokens
            }
            if let block { ranges.append(block) }
        }
        return ranges.enumerated().map { chunk($1, index: $0) }
    }

    /// Windows over `range` of at most `size` tokens (at least one word), each starting `overlap` tokens before
    /// the previous one ended.
    private func windows(_ range: Range<Int>, words: [Word], overlap: Int) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start = range.lowerBound
        while start < range.upperBound {
            var end = start
            var tokens = 0
            while end < range.upperBound, end == start || tokens + words[end].tokens <= settings.size {
                tokens += words[end].tokens
                end += 1
            }
            result.append(start..<end)
            guard end < range.upperBound else { break }
            // Step back over `overlap` tokens, always moving forward by at least one word.
            var next = end
            var back = 0
            while next - 1 > start, back + words[next - 1].tokens <= overlap {
                back += words[next - 1].tokens
                next -= 1
            }
            start = next
        }
        return result
    }

    struct Word {
        var start: Int
        var end: Int
        var tokens: Int
    }

    static func words(in scalars: [Unicode.Scalar]) -> [Word] {
        var words: [Word] = []
        var start: Int?
        for (offset, scalar) in scalars.enumerated() {
            if scalar.properties.isWhitespace {
                if let begin = start {
                    words.append(Word(start: begin, end: offset, tokens: TokenCount.of(word: offset - begin)))
                }
                start = nil
            } else if start == nil {
                start = offset
            }
        }
        if let begin = start {
            words.append(Word(start: begin, end: scalars.count, tokens: TokenCount.of(word: scalars.count - begin)))
        }
        return words
    }

    /// Where each section starts in the document's text, in scalars.
    static func sectionStarts(_ document: ExtractedDocument) -> [(offset: Int, section: Int)] {
        var offset = 0
        let separator = ExtractedDocument.sectionSeparator.unicodeScalars.count
        return document.sections.enumerated().map { index, section in
            defer { offset += section.text.unicodeScalars.count + separator }
            return (offset, index)
        }
    }

    /// Word ranges of paragraphs (split at blank lines and at section starts).
    static func paragraphs(
        words: [Word], scalars: [Unicode.Scalar], sectionStarts: [Int]
    )
        -> [(range: Range<Int>, startsSection: Bool)]
    {
        var result: [(Range<Int>, Bool)] = []
        var sectionIndex = 0
        var begin = 0
        var startsSection = true
        for index in words.indices.dropFirst() {
            let gap = scalars[words[index - 1].end..<words[index].start]
            var crossesSection = false
            while sectionIndex + 1 < sectionStarts.count, sectionStarts[sectionIndex + 1] <= words[index].start {
                sectionIndex += 1
                crossesSection = true
            }
            if crossesSection || gap.filter({ $0 == "\n" }).count >= 2 {
                result.append((begin..<index, startsSection))
                begin = index
                startsSection = crossesSection
            }
        }
        if begin < words.count { result.append((begin..<words.count, startsSection)) }
        return result
    }
}
