import Foundation
import KilnBasics
package import KilnIndex

/// Searches the index an `index` stage built: BM25 without any model, vector and hybrid through the stage's
/// embedding provider (query vectors cached in the checkpoint store, so a repeated query costs nothing). `search`,
/// `mcp` and an agent's search tool all search through it.
package struct IndexSearcher: Sendable {
    package let stageID: String
    private let index: SerialConfined<SearchIndex>
    private let embedder: EmbeddingClient?
    /// Why the index's embedding provider cannot be used here (its key is not set): BM25 still works.
    package let embeddingsUnavailable: String?

    package init(
        stageID: String, index: SerialConfined<SearchIndex>, embedder: EmbeddingClient?,
        embeddingsUnavailable: String? = nil
    ) {
        self.stageID = stageID
        self.index = index
        self.embedder = embedder
        self.embeddingsUnavailable = embeddingsUnavailable
    }

    /// Hybrid when the index has embeddings that can be used, BM25 otherwise.
    package var defaultMode: SearchMode { embedder == nil ? .bm25 : .hybrid }

    package func search(_ query: String, limit: Int, mode: SearchMode? = nil) async throws -> [SearchHit] {
        let requested = mode ?? defaultMode
        let mode = requested == .hybrid && embedder == nil && embeddingsUnavailable != nil ? .bm25 : requested
        guard mode == .bm25 else {
            let vector = try await queryVector(query, mode: mode)
            return try await index.perform { index in
                mode == .vector
                    ? try index.nearest(to: vector, limit: limit)
                    : try index.hybrid(query, vector: vector, limit: limit)
            }
        }
        return try await index.perform { try $0.bm25(query, limit: limit) }
    }

    private func queryVector(_ query: String, mode: SearchMode) async throws -> [Float] {
        if embedder == nil, let embeddingsUnavailable {
            throw RunSetupError(
                "--mode \(mode.rawValue) needs query embeddings: \(embeddingsUnavailable)",
                hint: "export the key, or search with --mode bm25 (no model needed)")
        }
        guard let embedder else {
            throw RunSetupError(
                "index '\(stageID)' has no embeddings, so --mode \(mode.rawValue) cannot work",
                hint: "add embeddings: {provider: <name>} to stage '\(stageID)' and rerun it, or use --mode bm25")
        }
        let batch: EmbeddingClient.Batch
        do {
            batch = try await embedder.vectors(for: [query])
        } catch {
            throw RunSetupError("embedding the query failed: \(error)", hint: "--mode bm25 needs no model")
        }
        switch batch {
        case .vectors(let vectors, _, _, _):
            guard let vector = vectors.first else { break }
            return vector
        case .failed(let reason, _, _):
            throw RunSetupError("embedding the query failed: \(reason)", hint: "--mode bm25 needs no model")
        case .missing:
            break
        }
        throw RunSetupError("the query could not be embedded", hint: "--mode bm25 needs no model")
    }

    /// What an index holds, as a content address: its documents (content and chunking) and embedding model; an
    /// index not built yet has its own.
    package static func fingerprint(of path: String) -> String {
        guard FileManager.default.fileExists(atPath: path), let index = try? SearchIndex(path: path),
            let documents = try? index.documents()
        else { return "not built" }
        let model = (try? index.embeddingModel) ?? nil
        return SHA256.hex(
            documents.map { "\($0.id)\u{1F}\($0.contentHash)\u{1F}\($0.configHash)" }.joined(separator: "\u{1E}")
                + "\u{1D}" + (model ?? ""))
    }
}
