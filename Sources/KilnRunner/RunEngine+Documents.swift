import Foundation
import KilnBasics
import KilnModel
import KilnStore

extension RunEngine {
    /// Streams an ingest stage's chunks, documents in path order, several extracted at once.
    func runIngest(
        _ settings: IngestSettings, context: StageContext, store: any CheckpointStore, pool: ProviderPool, executor: CallExecutor,
        report: inout StageReport, emit: (PipelineItem) async throws -> Void
    ) async throws -> RunStop? {
        let transcriber = settings.extractionProvider.map { name in
            PageTranscriber(access: access(to: name, context: context, store: store, pool: pool, executor: executor))
        }
        let stage = IngestStage(
            stageID: context.stage.id, settings: settings, baseDirectory: baseDirectory, store: store, mode: context.mode,
            transcriber: transcriber)
        var stopReason: RunStop?
        var files = stage.files()
        if let shard = options.shard {
            let all = files.count
            files.removeAll { !shard.contains(stage.relativePath($0)) }
            report.otherShards = all - files.count
        }
        if files.isEmpty { report.note("no file matches \(settings.paths.joined(separator: ", ")) below \(baseDirectory)") }
        var next = 0
        try await forEachOrdered(
            {
                defer { next += 1 }
                return next < files.count ? files[next] : nil
            }, concurrency: ProcessInfo.processInfo.activeProcessorCount, transform: { await stage.process($0) },
            emit: { outcome in
                switch outcome {
                case .document(let path, let contentHash, let extracted, let cached, let usage, let requests):
                    if cached { report.cached += 1 } else { report.computed += 1 }
                    report.usage += usage
                    report.requests += requests
                    for warning in extracted.warnings { report.note("\(stage.relativePath(path)): warning: \(warning)") }
                    for item in stage.items(path: path, contentHash: contentHash, extracted) {
                        try await emit(item)
                        report.items += 1
                    }
                case .failed(let path, let reason, let usage, let requests):
                    report.failed += 1
                    report.usage += usage
                    report.requests += requests
                    report.note("\(stage.relativePath(path)): \(reason)")
                case .missing:
                    if report.pending == 0 { report.note("documents not extracted yet") }
                    report.pending += 1
                case .stopped(let reason):
                    if stopReason == nil { stopReason = reason }
                    self.stop.set()
                }
                let snapshot = report
                await context.progress.update(context.stage.id) { $0 = snapshot }
            }, shouldStop: { self.stop.isSet })
        if let shard = options.shard {
            report.note("shard \(shard): \(files.count) documents here, \(report.otherShards) in the other shards")
        }
        return stopReason
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
                settings: embeddings,
                access: access(to: embeddings.provider, context: context, store: store, pool: pool, executor: executor))
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

    /// A stage's way to one provider; no executor offline.
    private func access(
        to provider: String, context: StageContext, store: any CheckpointStore, pool: ProviderPool, executor: CallExecutor
    ) -> CallAccess {
        CallAccess(
            provider: pipeline.provider(named: provider), entry: pool[provider], executor: options.offline ? nil : executor,
            store: store, stageID: context.stage.id, mode: context.mode)
    }
}
