package import KilnBasics

/// How documents are cut into chunks.
package enum ChunkerKind: String, Sendable, Hashable, CaseIterable {
    /// Windows of `size` tokens overlapping by `overlap` tokens.
    case fixedWindow = "fixed_window"
    /// Split at headings and paragraphs, then merged up to `size` tokens.
    case semantic
}

/// Chunking parameters; sizes are in approximate tokens.
package struct ChunkerSettings: Sendable, Hashable {
    package var kind: ChunkerKind
    package var size: Int
    package var overlap: Int

    /// Kiln's defaults: 512 tokens with 64 of overlap.
    package init(kind: ChunkerKind = .fixedWindow, size: Int = 512, overlap: Int = 64) {
        self.kind = kind
        self.size = size
        self.overlap = overlap
    }
}

/// `ingest`: documents extracted and chunked.
package struct IngestSettings: Sendable, Hashable {
    /// Globs and folders, relative to the pipeline file.
    package var paths: [String]
    package var maxFileMB: Double
    package var maxPages: Int
    package var chunker: ChunkerSettings
    /// Provider for LLM extraction of scanned pages; off when nil.
    package var extractionProvider: String?
    /// Encoding of text documents.
    package var encoding: TextEncoding
    /// Read files through symbolic links that lead outside the folders the paths name (off: such a link could
    /// put any file of the machine into the index).
    package var followSymlinks: Bool

    package init(
        paths: [String], maxFileMB: Double = 50, maxPages: Int = 2000, chunker: ChunkerSettings = .init(),
        extractionProvider: String? = nil, encoding: TextEncoding = .auto, followSymlinks: Bool = false
    ) {
        self.paths = paths
        self.maxFileMB = maxFileMB
        self.maxPages = maxPages
        self.chunker = chunker
        self.extractionProvider = extractionProvider
        self.encoding = encoding
        self.followSymlinks = followSymlinks
    }
}

/// `qna`: question and answer pairs written by a model from each chunk of an ingest stage (Kiln's Q&A generation
/// for RAG evals), each keeping the chunk it came from.
package struct QnaSettings: Sendable, Hashable {
    package var provider: String
    /// Pairs per chunk (Kiln's `kiln_data_gen_num_samples`).
    package var perChunk: Int
    /// Kiln's custom guidance for the style of the pairs.
    package var guidance: String?

    package init(provider: String, perChunk: Int = 2, guidance: String? = nil) {
        self.provider = provider
        self.perChunk = perChunk
        self.guidance = guidance
    }
}

/// Embedding settings of an index.
package struct EmbeddingSettings: Sendable, Hashable {
    package var provider: String
    /// Overrides the provider's model for embeddings.
    package var model: String?
    package var batchSize: Int

    package init(provider: String, model: String? = nil, batchSize: Int = 64) {
        self.provider = provider
        self.model = model
        self.batchSize = batchSize
    }
}

/// `index`: a BM25 index, optionally with embeddings for vector and hybrid search.
package struct IndexSettings: Sendable, Hashable {
    /// Index file relative to the pipeline file; the checkpoint store when nil.
    package var path: String?
    package var embeddings: EmbeddingSettings?

    package init(path: String? = nil, embeddings: EmbeddingSettings? = nil) {
        self.path = path
        self.embeddings = embeddings
    }
}
