import Foundation
import KilnBasics
package import KilnIndex
package import KilnModel
import KilnScheduler
package import KilnStages
import KilnStore

/// Searches the index an `index` stage built: BM25 without any model, vector and hybrid with the stage's
/// embedding provider (query vectors cached in the checkpoint store, so a repeated query costs nothing).
package final class DocumentSearch: Sendable {
    package let stageID: String
    package let indexPath: String
    private let searcher: IndexSearcher
    /// Why the index's embedding provider cannot be used here (its key is not set): BM25 still works.
    package var embeddingsUnavailable: String? { searcher.embeddingsUnavailable }

    private init(
        stageID: String, indexPath: String, index: SerialConfined<SearchIndex>, embedder: EmbeddingClient?,
        embeddingsUnavailable: String? = nil
    ) {
        self.stageID = stageID
        self.indexPath = indexPath
        searcher = IndexSearcher(
            stageID: stageID, index: index, embedder: embedder, embeddingsUnavailable: embeddingsUnavailable)
    }

    /// Runs `body` with a search of the index of `stageID` (or the pipeline's only index stage); its embedding
    /// provider and the store that caches query vectors live as long as this scope. Throws `RunSetupError` with
    /// what to do when there is no such index or it was not built yet.
    package static func with<Result: Sendable>(
        pipeline: Pipeline, stageID: String?, statePath: String, environment: [String: String],
        fakeModel: (any FakeModelHost)?, _ body: (DocumentSearch) async throws -> Result
    ) async throws -> Result {
        let (stage, settings) = try indexStage(stageID, in: pipeline)
        let base = URL(fileURLWithPath: pipeline.sourcePath).deletingLastPathComponent().path
        let path = IndexStage.path(for: stage.id, settings: settings, baseDirectory: base, statePath: statePath)
        guard FileManager.default.fileExists(atPath: path) else {
            throw RunSetupError(
                "index '\(stage.id)' has not been built yet (no \(path))",
                hint: "build it with `kiln-pipe index \(pipeline.sourcePath)` or `kiln-pipe run \(pipeline.sourcePath)`"
            )
        }
        let index = SerialConfined(try SearchIndex(path: path), label: "kiln-pipe.search")
        guard let embeddings = settings.embeddings else {
            return try await body(DocumentSearch(stageID: stage.id, indexPath: path, index: index, embedder: nil))
        }
        // BM25 needs no model: without the embedding provider's key, search (and the MCP server) still works, on
        // BM25 alone.
        if let variable = pipeline.provider(named: embeddings.provider)?.apiKeyEnv,
            (environment[variable] ?? "").isEmpty
        {
            let reason = "\(variable) is not set, so the embedding provider '\(embeddings.provider)' cannot be used"
            return try await body(
                DocumentSearch(
                    stageID: stage.id, indexPath: path, index: index, embedder: nil, embeddingsUnavailable: reason))
        }
        // No port is opened for a fake embedder: `mcp` promises none.
        return try await ProviderPool.with(
            pipeline: pipeline, names: [embeddings.provider], environment: environment, concurrencyOverride: nil,
            fakeModel: fakeModel, openPorts: false
        ) { pool in
            try await StoreLocation.with(statePath) { store in
                let embedder = EmbeddingClient(
                    settings: embeddings,
                    access: CallAccess(
                        provider: pipeline.provider(named: embeddings.provider), entry: pool[embeddings.provider],
                        executor: CallExecutor(budget: BudgetTracker(limitUSD: nil), stop: StopFlag()), store: store,
                        stageID: stage.id, mode: CacheMode(useCache: true, offline: false)))
                return try await body(
                    DocumentSearch(stageID: stage.id, indexPath: path, index: index, embedder: embedder))
            }
        }
    }

    /// The index stage named, or the pipeline's only one.
    private static func indexStage(
        _ stageID: String?, in pipeline: Pipeline
    ) throws -> (StageSpec, IndexSettings) {
        let indexStages = pipeline.stages.filter { $0.type == .index }
        let stage: StageSpec
        if let stageID {
            guard let named = pipeline.stage(withID: stageID), named.type == .index else {
                throw RunSetupError(
                    "'\(stageID)' is not an index stage of \(pipeline.sourcePath)",
                    hint: indexStages.isEmpty
                        ? "add {id: idx, type: index, from: <ingest stage>}"
                        : "index stages: \(indexStages.map(\.id).joined(separator: ", "))")
            }
            stage = named
        } else {
            guard let only = indexStages.first else {
                throw RunSetupError(
                    "\(pipeline.sourcePath) has no index stage",
                    hint: "add {id: idx, type: index, from: <ingest stage>} and run it")
            }
            guard indexStages.count == 1 else {
                throw RunSetupError(
                    "\(pipeline.sourcePath) has \(indexStages.count) index stages",
                    hint: "choose one with --index \(indexStages.map(\.id).joined(separator: "|"))")
            }
            stage = only
        }
        guard case .index(let settings) = stage.settings else {
            throw RunSetupError("'\(stage.id)' is not an index stage")
        }
        return (stage, settings)
    }

    /// Hybrid when the index has embeddings that can be used, BM25 otherwise.
    package var defaultMode: SearchMode { searcher.defaultMode }

    package func search(_ query: String, limit: Int, mode: SearchMode? = nil) async throws -> [SearchHit] {
        try await searcher.search(query, limit: limit, mode: mode)
    }
}
