import Foundation
import KilnBasics
import KilnModel
import KilnStore

extension RunEngine {
    /// Streams an ingest stage's chunks, documents in path order, several extracted at once.
    func runIngest(
        _ settings: IngestSettings, context: StageContext, store: any CheckpointStore, report: inout StageReport,
        emit: (PipelineItem) async throws -> Void
    ) async throws {
        if settings.extractionProvider != nil {
            throw RunSetupError(
                "stage '\(context.stage.id)': LLM extraction (extraction_provider) is not available in this version",
                hint: "remove extraction_provider; PDF text, HTML, DOCX, Markdown and text are extracted locally")
        }
        let stage = IngestStage(
            stageID: context.stage.id, settings: settings, baseDirectory: baseDirectory, store: store, mode: context.mode)
        let files = stage.files()
        if files.isEmpty { report.note("no file matches \(settings.paths.joined(separator: ", ")) below \(baseDirectory)") }
        var next = 0
        try await forEachOrdered(
            {
                defer { next += 1 }
                return next < files.count ? files[next] : nil
            }, concurrency: ProcessInfo.processInfo.activeProcessorCount, transform: { await stage.process($0) },
            emit: { outcome in
                switch outcome {
                case .document(let path, let contentHash, let extracted, let cached):
                    if cached { report.cached += 1 } else { report.computed += 1 }
                    for warning in extracted.warnings { report.note("\(stage.relativePath(path)): warning: \(warning)") }
                    for item in stage.items(path: path, contentHash: contentHash, extracted) {
                        try await emit(item)
                        report.items += 1
                    }
                case .failed(let path, let reason):
                    report.failed += 1
                    report.note("\(stage.relativePath(path)): \(reason)")
                case .missing:
                    if report.pending == 0 { report.note("documents not extracted yet (no call needed: extraction is local)") }
                    report.pending += 1
                }
                let snapshot = report
                await context.progress.update(context.stage.id) { $0 = snapshot }
            }, shouldStop: { self.stop.isSet })
    }

    /// Brings an index stage's search index in step with its ingest stage, then embeds what lacks a vector.
    func runIndex(
        _ settings: IndexSettings, context: StageContext, store: any CheckpointStore, pool: ProviderPool, executor: CallExecutor,
        report: inout StageReport, emit: (PipelineItem) async throws -> Void
    ) async throws -> RunStop? {
        let path = IndexStage.path(
            for: context.stage.id, settings: settings, baseDirectory: baseDirectory, statePath: options.statePath)
        if !context.mode.useCache, !options.dryRun {
            // --fresh: the index is rebuilt from scratch (its documents are re-extracted by a fresh ingest stage).
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let embedder = settings.embeddings.map { embeddings in
            EmbeddingClient(
                settings: embeddings, provider: pipeline.provider(named: embeddings.provider), entry: pool[embeddings.provider],
                executor: options.offline ? nil : executor, store: store, stageID: context.stage.id, mode: context.mode)
        }
        let stage = IndexStage(
            stageID: context.stage.id, settings: settings, indexPath: path, embedder: embedder, dryRun: options.dryRun)
        let changes = try await stage.update(
            from: context.inputs, shouldStop: { self.stop.isSet },
            documentDone: { id, status in
                try await emit(PipelineItem(id: id, fields: JSONObject([("status", .string(status))])))
            })
        report.outputFile = context.outputFile
        report.items = changes.chunks
        report.computed = changes.added + changes.updated + changes.removed
        report.cached = changes.unchanged
        report.failed = changes.embeddingFailures
        report.pending = changes.vectorsPending
        report.usage = changes.usage
        report.requests = changes.requests
        var summary =
            "\(options.dryRun ? "would index" : "indexed") \(changes.chunks) chunks of \(changes.added + changes.updated + changes.unchanged) documents in \(path): \(changes.added) added, \(changes.updated) updated, \(changes.unchanged) unchanged, \(changes.removed) removed"
        if embedder != nil { summary += "; vectors: \(changes.vectorsAdded) added, \(changes.embedded) newly embedded" }
        report.note(summary)
        for failure in changes.failures { report.note(failure) }
        return changes.stop
    }
}
