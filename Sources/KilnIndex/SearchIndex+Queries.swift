import KilnBasics

extension SearchIndex {
    /// Full-text BM25 ranking (best first) with highlighted snippets.
    package func bm25(_ query: String, limit: Int) throws -> [SearchHit] {
        guard let match = FTSQuery.match(query), limit > 0 else { return [] }
        var ranked: [(Int64, Double, String)] = []
        try database.forEachRow(
            "SELECT rowid, rank, snippet(chunks_fts, 0, '**', '**', '…', 24) FROM chunks_fts WHERE chunks_fts "
                + "MATCH ? ORDER BY rank LIMIT ?",
            [.text(match), .integer(Int64(limit))]
        ) { row in ranked.append((row.integer(0), -row.real(1), row.text(2) ?? "")) }
        return try ranked.compactMap { rowID, score, snippet in try hit(rowID: rowID, score: score, snippet: snippet) }
    }

    /// Exact cosine ranking of every stored vector against `vector` (best first).
    package func nearest(to vector: [Float], limit: Int) throws -> [SearchHit] {
        try nearestRows(to: vector, limit: limit).compactMap { rowID, score in
            try hit(rowID: rowID, score: Double(score), snippet: nil)
        }
    }

    /// Reciprocal rank fusion (k = 60, as in the RRF paper and most hybrid search engines) of the BM25 and
    /// vector rankings, each taken `max(4·limit, 50)` deep.
    package func hybrid(_ query: String, vector: [Float], limit: Int) throws -> [SearchHit] {
        let depth = max(limit * 4, 50)
        let lexical = try bm25(query, limit: depth)
        let semantic = try nearestRows(to: vector, limit: depth)
        var scores: [Int64: Double] = [:]
        var snippets: [Int64: String] = [:]
        for (rank, hit) in lexical.enumerated() {
            let rowID = try rowID(of: hit)
            scores[rowID, default: 0] += 1 / Double(60 + rank + 1)
            snippets[rowID] = hit.snippet
        }
        for (rank, (rowID, _)) in semantic.enumerated() { scores[rowID, default: 0] += 1 / Double(60 + rank + 1) }
        let best = scores.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(limit)
        return try best.compactMap { rowID, score in
            try hit(rowID: rowID, score: score, snippet: snippets[rowID] ?? highlight(rowID: rowID, query: query))
        }
    }

    private func rowID(of hit: SearchHit) throws -> Int64 {
        try database.query(
            "SELECT rowid FROM chunks WHERE document_id = ? AND chunk_idx = ?",
            [.text(hit.documentID), .integer(Int64(hit.chunkIndex))]
        ).first?.first?.integer ?? -1
    }

    /// A snippet for a chunk the full-text query matches, when it does.
    private func highlight(rowID: Int64, query: String) throws -> String? {
        guard let match = FTSQuery.match(query) else { return nil }
        return try database.query(
            "SELECT snippet(chunks_fts, 0, '**', '**', '…', 24) FROM chunks_fts WHERE chunks_fts MATCH ? AND rowid = ?",
            [.text(match), .integer(rowID)]
        ).first?.first?.text
    }

    private func nearestRows(to vector: [Float], limit: Int) throws -> [(Int64, Float)] {
        let loaded = try vectors()
        guard !loaded.rowIDs.isEmpty, limit > 0 else { return [] }
        guard vector.count == loaded.dimensions else {
            throw ActionableError(
                "the query vector has \(vector.count) dimensions but the index holds \(loaded.dimensions)",
                hint:
                    "search with the embedding model the index was built with "
                    + "(\((try? embeddingModel) ?? nil ?? "unknown"))"
            )
        }
        let query = Vectors.normalized(vector)
        // Top-k by insertion into a small sorted array: k is tiny next to the number of vectors.
        var best: [(Int64, Float)] = []
        query.withUnsafeBytes { queryBytes in
            loaded.values.withUnsafeBytes { all in
                for (position, rowID) in loaded.rowIDs.enumerated() {
                    let slice = UnsafeRawBufferPointer(rebasing: all[(position * loaded.dimensions * 4)...])
                    let score = Vectors.dot(queryBytes, slice, count: loaded.dimensions)
                    guard best.count < limit || score > best[best.count - 1].1 else { continue }
                    let at = best.firstIndex { $0.1 < score } ?? best.count
                    best.insert((rowID, score), at: at)
                    if best.count > limit { best.removeLast() }
                }
            }
        }
        return best
    }

    /// Every vector, loaded once per opened index into one contiguous array.
    private func vectors() throws -> (rowIDs: [Int64], values: [Float], dimensions: Int) {
        if let loadedVectors { return loadedVectors }
        var rowIDs: [Int64] = []
        var values: [Float] = []
        var dimensions = 0
        try database.forEachRow("SELECT chunk_rowid, vector FROM vectors ORDER BY chunk_rowid") { row in
            let bytes = row.blob(1)
            let count = bytes.count / 4
            if dimensions == 0 { dimensions = count }
            guard count == dimensions else { return }
            rowIDs.append(row.integer(0))
            values.append(contentsOf: (0..<count).map { bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) })
        }
        loadedVectors = (rowIDs, values, dimensions)
        return (rowIDs, values, dimensions)
    }

    private func hit(rowID: Int64, score: Double, snippet: String?) throws -> SearchHit? {
        guard
            let row = try database.query(
                """
                SELECT c.document_id, c.chunk_idx, c.text, c.page, c.headings, d.path, d.name, c.start_offset,
                    c.end_offset
                FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.rowid = ?
                """, [.integer(rowID)]
            ).first
        else { return nil }
        let text = row[2].text ?? ""
        let headings = (try? JSONValue(parsing: row[4].text ?? "[]"))?.arrayValue?.compactMap(\.stringValue) ?? []
        return SearchHit(
            documentID: row[0].text ?? "", path: row[5].text ?? "", name: row[6].text ?? "",
            chunkIndex: Int(row[1].integer ?? 0),
            page: row[3].integer.map { Int($0) }, headings: headings, text: text,
            snippet: snippet ?? Self.opening(of: text), score: score,
            span: Int(row[7].integer ?? 0)..<Int(max(row[7].integer ?? 0, row[8].integer ?? 0)))
    }

    /// The first words of a chunk, for hits without a full-text match.
    static func opening(of text: String) -> String {
        let words = text.split(whereSeparator: \.isWhitespace)
        return words.prefix(30).joined(separator: " ") + (words.count > 30 ? " …" : "")
    }
}
