import KilnBasics

/// A document search index in one SQLite file: documents, their chunks, an FTS5 table over the chunk text (BM25,
/// Porter stemming, diacritics folded) and optional unit-length embedding vectors. Not thread-safe: its owner
/// confines it to one thread or serial queue (every call blocks).
package final class SearchIndex {
    package static let schemaVersion = "1"
    let database: SQLiteDatabase
    /// Vectors loaded for search: row ids and a flat array of `dimensions`-wide vectors.
    var loadedVectors: (rowIDs: [Int64], values: [Float], dimensions: Int)?

    /// Opens (creating when missing) the index at `path`.
    package init(path: String) throws {
        database = try SQLiteDatabase(path: path)
        try database.execute(
            """
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS documents(
                id TEXT PRIMARY KEY, path TEXT NOT NULL, name TEXT NOT NULL, format TEXT NOT NULL,
                content_hash TEXT NOT NULL, config_hash TEXT NOT NULL, pages INTEGER);
            CREATE TABLE IF NOT EXISTS chunks(
                rowid INTEGER PRIMARY KEY, document_id TEXT NOT NULL, chunk_idx INTEGER NOT NULL, text TEXT NOT NULL,
                page INTEGER, headings TEXT NOT NULL, start_offset INTEGER NOT NULL, end_offset INTEGER NOT NULL,
                UNIQUE(document_id, chunk_idx));
            CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
                text, content='chunks', content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2');
            CREATE TABLE IF NOT EXISTS vectors(chunk_rowid INTEGER PRIMARY KEY, vector BLOB NOT NULL);
            """)
        if try meta("schema") == nil { try setMeta("schema", Self.schemaVersion) }
        // A bulk build that died before its full-text pass: the chunks are there, the text index is not.
        if try meta("text_pending") != nil { try finishBulk() }
    }

    /// Starts a bulk build: `replace(…, maintainText: false)` from now on, `finishBulk()` at the end. Marked in the
    /// file, so a build cut short is completed when the index is next opened.
    package func beginBulk() throws { try setMeta("text_pending", "1") }

    /// Builds the full-text index of a bulk build.
    package func finishBulk() throws {
        try transaction {
            try rebuildText()
            try database.query("DELETE FROM meta WHERE key = 'text_pending'")
        }
    }

    // MARK: Documents

    package func documents() throws -> [IndexedDocument] {
        try database.query(
            "SELECT id, path, name, format, content_hash, config_hash, pages FROM documents ORDER BY path"
        ).map {
            IndexedDocument(
                id: $0[0].text ?? "", path: $0[1].text ?? "", name: $0[2].text ?? "", format: $0[3].text ?? "",
                contentHash: $0[4].text ?? "", configHash: $0[5].text ?? "", pages: $0[6].integer.map { Int($0) })
        }
    }

    package var chunkCount: Int {
        get throws { Int(try database.query("SELECT count(*) FROM chunks").first?.first?.integer ?? 0) }
    }

    /// Runs `body` in one transaction.
    package func transaction<Result>(_ body: () throws -> Result) throws -> Result {
        try database.transaction(body)
    }

    /// Replaces a document and its chunks. With `maintainText` false the full-text table is left for `rebuildText`
    /// (4× faster for bulk builds).
    package func replace(_ document: IndexedDocument, chunks: [IndexedChunk], maintainText: Bool = true) throws {
        try remove(documentID: document.id, maintainText: maintainText)
        try database.query(
            "INSERT INTO documents(id, path, name, format, content_hash, config_hash, pages) VALUES (?, ?, ?, "
                + "?, ?, ?, ?)",
            [
                .text(document.id), .text(document.path), .text(document.name), .text(document.format),
                .text(document.contentHash), .text(document.configHash),
                document.pages.map { .integer(Int64($0)) } ?? .null,
            ])
        for chunk in chunks {
            let headings = JSONValue.array(chunk.headings.map(JSONValue.string)).serialized()
            try database.query(
                "INSERT INTO chunks(document_id, chunk_idx, text, page, headings, start_offset, end_offset) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(document.id), .integer(Int64(chunk.index)), .text(chunk.text),
                    chunk.page.map { .integer(Int64($0)) } ?? .null,
                    .text(headings), .integer(Int64(chunk.start)), .integer(Int64(chunk.end)),
                ])
            if maintainText {
                try database.query(
                    "INSERT INTO chunks_fts(rowid, text) VALUES (?, ?)",
                    [.integer(database.lastInsertRowID), .text(chunk.text)])
            }
        }
        loadedVectors = nil
    }

    /// Removes a document, its chunks, their full-text entries and vectors.
    package func remove(documentID: String, maintainText: Bool = true) throws {
        if maintainText {
            try database.query(
                "INSERT INTO chunks_fts(chunks_fts, rowid, text) SELECT 'delete', rowid, text FROM chunks "
                    + "WHERE document_id = ?",
                [.text(documentID)])
        }
        try database.query(
            "DELETE FROM vectors WHERE chunk_rowid IN (SELECT rowid FROM chunks WHERE document_id = ?)",
            [.text(documentID)])
        try database.query("DELETE FROM chunks WHERE document_id = ?", [.text(documentID)])
        try database.query("DELETE FROM documents WHERE id = ?", [.text(documentID)])
        loadedVectors = nil
    }

    /// Rebuilds the full-text table from the chunks (after bulk `replace(…, maintainText: false)`).
    package func rebuildText() throws {
        try database.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('rebuild')")
    }

    // MARK: Vectors

    /// The embedding model the stored vectors came from; changing it drops them all.
    package func useEmbeddingModel(_ model: String?) throws {
        let current = try meta("embedding_model")
        guard current != model else { return }
        try database.execute("DELETE FROM vectors")
        if let model {
            try setMeta("embedding_model", model)
        } else {
            try database.query("DELETE FROM meta WHERE key = 'embedding_model'")
        }
        loadedVectors = nil
    }

    package var embeddingModel: String? { get throws { try meta("embedding_model") } }

    /// Chunks without a vector after row `after`: (rowid, text), in index order.
    package func chunksWithoutVectors(after: Int64 = 0, limit: Int) throws -> [(rowID: Int64, text: String)] {
        var result: [(Int64, String)] = []
        try database.forEachRow(
            """
            SELECT c.rowid, c.text FROM chunks c LEFT JOIN vectors v ON v.chunk_rowid = c.rowid
            WHERE v.chunk_rowid IS NULL AND c.rowid > ? ORDER BY c.rowid LIMIT ?
            """, [.integer(after), .integer(Int64(limit))]
        ) { row in result.append((row.integer(0), row.text(1) ?? "")) }
        return result
    }

    /// Stores vectors (normalised to unit length) for chunks.
    package func setVectors(_ vectors: [(rowID: Int64, vector: [Float])]) throws {
        for (rowID, vector) in vectors {
            try database.query(
                "INSERT OR REPLACE INTO vectors(chunk_rowid, vector) VALUES (?, ?)",
                [.integer(rowID), .blob(Vectors.bytes(Vectors.normalized(vector)))])
        }
        loadedVectors = nil
    }

    package var vectorCount: Int {
        get throws { Int(try database.query("SELECT count(*) FROM vectors").first?.first?.integer ?? 0) }
    }

    // MARK: Meta

    func meta(_ key: String) throws -> String? {
        try database.query("SELECT value FROM meta WHERE key = ?", [.text(key)]).first?.first?.text
    }

    func setMeta(_ key: String, _ value: String) throws {
        try database.query("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", [.text(key), .text(value)])
    }
}
