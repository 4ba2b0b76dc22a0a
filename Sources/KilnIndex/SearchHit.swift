/// How a query is matched.
package enum SearchMode: String, Sendable, Hashable, CaseIterable {
    /// Full-text BM25 (SQLite FTS5), no model needed.
    case bm25
    /// Cosine similarity of embeddings.
    case vector
    /// Reciprocal rank fusion of the BM25 and vector rankings.
    case hybrid
}

/// One ranked result.
package struct SearchHit: Sendable, Hashable {
    package var documentID: String
    /// The document's path relative to the pipeline file, and its file name.
    package var path: String
    package var name: String
    package var chunkIndex: Int
    package var page: Int?
    package var headings: [String]
    package var text: String
    /// The matching passage with query terms marked `**like this**`.
    package var snippet: String
    /// Higher is better: BM25 (positive), cosine similarity, or the fused reciprocal-rank score.
    package var score: Double
    /// Where the chunk lies in its document's extracted text (characters).
    package var span: Range<Int> = 0..<0

    /// Kiln's search tool's answer (`format_search_results` of Kiln 1.2.0): each hit as
    /// `[document_id: X, chunk_idx: N]`, its text and a blank line, hits joined by a `=========` line.
    package static func kilnLayout(_ hits: [SearchHit]) -> String {
        hits.map { "[document_id: \($0.documentID), chunk_idx: \($0.chunkIndex)]\n\($0.text)\n\n" }.joined(
            separator: "\n=========\n")
    }
}

/// A document as the index knows it.
package struct IndexedDocument: Sendable, Hashable {
    package var id: String
    package var path: String
    package var name: String
    package var format: String
    /// sha256 of the file's bytes.
    package var contentHash: String
    /// Hash of the extraction and chunking settings the chunks were made with.
    package var configHash: String
    package var pages: Int?

    package init(
        id: String, path: String, name: String, format: String, contentHash: String, configHash: String, pages: Int?
    ) {
        self.id = id
        self.path = path
        self.name = name
        self.format = format
        self.contentHash = contentHash
        self.configHash = configHash
        self.pages = pages
    }
}

/// A chunk to index.
package struct IndexedChunk: Sendable, Hashable {
    package var index: Int
    package var text: String
    package var page: Int?
    package var headings: [String]
    package var start: Int
    package var end: Int

    package init(index: Int, text: String, page: Int?, headings: [String], start: Int, end: Int) {
        self.index = index
        self.text = text
        self.page = page
        self.headings = headings
        self.start = start
        self.end = end
    }
}
