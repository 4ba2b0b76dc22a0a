import Foundation
import KilnBasics
import KilnIndex
package import KilnModel
import KilnProviders

/// `index`: keeps a search index in step with its ingest stage. Documents whose content and chunking are
/// unchanged are left alone, changed ones replaced, ones no longer ingested removed; a first build fills the
/// tables and builds the full-text index in one pass (4× faster than row by row). With `embeddings:`, chunks
/// without a vector are embedded in batches through the engine (cached per text in the checkpoint store).
package struct IndexStage: Sendable {
    let stageID: String
    let settings: IndexSettings
    let indexPath: String
    let embedder: EmbeddingClient?
    /// Planning: work out what would change without writing the index.
    var dryRun = false

    /// What one run did to the index.
    struct Changes: Sendable {
        var added = 0
        var updated = 0
        var unchanged = 0
        var removed = 0
        var chunks = 0
        /// Vectors stored in this run, and how many of them needed a provider call (the rest came from the store).
        var vectorsAdded = 0
        var embedded = 0
        var vectorsPending = 0
        var failures: [String] = []
        var embeddingFailures = 0
        var usage = Usage()
        var requests = 0
        var stop: RunStop?
    }

    /// The index file of a stage: `path:` relative to the pipeline file, else beside the checkpoint store.
    package static func path(
        for stageID: String, settings: IndexSettings, baseDirectory: String, statePath: String
    ) -> String {
        if let path = settings.path { return path.hasPrefix("/") ? path : baseDirectory + "/" + path }
        return StatePlace.localFolder(of: statePath, baseDirectory: baseDirectory)
            .appendingPathComponent("\(stageID).index.sqlite").path
    }

    /// Reads every chunk item (grouped by document, as ingest emits them) and brings the index in step.
    func update(
        from inputs: [BoundedChannel<PipelineItem>], shouldStop: @escaping @Sendable () -> Bool,
        documentDone: (String, String) async throws -> Void
    ) async throws -> Changes {
        var index: SerialConfined<SearchIndex>?
        if !dryRun || FileManager.default.fileExists(atPath: indexPath) {
            try Folder.create(URL(fileURLWithPath: indexPath).deletingLastPathComponent().path)
            index = SerialConfined(try SearchIndex(path: indexPath), label: "kiln-pipe.index.\(stageID)")
        }
        let known =
            try await index?.perform { index in
                Dictionary(uniqueKeysWithValues: try index.documents().map { ($0.id, $0) })
            } ?? [:]
        let writer = dryRun ? nil : index
        let bulk = known.isEmpty
        if bulk { try await writer?.perform { try $0.beginBulk() } }
        var changes = Changes()
        var seen = Set<String>()
        var group: [PipelineItem] = []
        func flush() async throws {
            guard let first = group.first, let id = first.fields["document_id"]?.stringValue else { return }
            let document = IndexedDocument(
                id: id, path: id, name: first.fields["name"]?.stringValue ?? id,
                format: first.fields["format"]?.stringValue ?? "",
                contentHash: first.fields["content_hash"]?.stringValue ?? "",
                configHash: first.fields["config_hash"]?.stringValue ?? "",
                pages: first.fields["pages"]?.numberValue.map { Int($0) })
            seen.insert(id)
            changes.chunks += group.count
            let status: String
            if let old = known[id], old == document {
                changes.unchanged += 1
                status = "unchanged"
            } else {
                let chunks = group.map(Self.chunk)
                if dryRun { changes.vectorsPending += embedder == nil ? 0 : chunks.count }
                try await writer?.perform { index in
                    try index.transaction { try index.replace(document, chunks: chunks, maintainText: !bulk) }
                }
                if known[id] == nil { changes.added += 1 } else { changes.updated += 1 }
                status = known[id] == nil ? "added" : "updated"
            }
            group.removeAll()
            try await documentDone(id, status)
        }
        for channel in inputs {
            while let item = await channel.receive() {
                if let last = group.last, last.fields["document_id"] != item.fields["document_id"] { try await flush() }
                group.append(item)
            }
        }
        try await flush()
        // A document that was not ingested this time (deleted, moved, or now failing) leaves the index.
        let gone = known.keys.filter { !seen.contains($0) }.sorted()
        if !shouldStop() {
            try await writer?.perform { index in
                try index.transaction { for id in gone { try index.remove(documentID: id, maintainText: !bulk) } }
            }
            for id in gone { try await documentDone(id, "removed") }
            changes.removed = gone.count
        }
        if bulk { try await writer?.perform { try $0.finishBulk() } }
        if let embedder, let writer {
            try await embed(with: embedder, index: writer, changes: &changes, shouldStop: shouldStop)
        }
        return changes
    }

    /// Embeds every chunk that has no vector yet, batch by batch, up to the provider's concurrency at once.
    private func embed(
        with embedder: EmbeddingClient, index: SerialConfined<SearchIndex>, changes: inout Changes,
        shouldStop: @escaping @Sendable () -> Bool
    ) async throws {
        let identity = embedder.modelIdentity
        try await index.perform { try $0.useEmbeddingModel(identity) }
        let batchSize = embedder.settings.batchSize
        let concurrency = embedder.access.entry?.provider.config.maxConcurrency ?? 1
        var after: Int64 = 0
        while !shouldStop(), changes.stop == nil {
            let window = try await index.perform { [after] in
                try $0.chunksWithoutVectors(after: after, limit: batchSize * concurrency)
            }
            guard let last = window.last else { break }
            after = last.rowID
            let batches = stride(from: 0, to: window.count, by: batchSize).map {
                Array(window[$0..<min($0 + batchSize, window.count)])
            }
            var next = 0
            try await forEachOrdered(
                {
                    defer { next += 1 }
                    return next < batches.count ? batches[next] : nil
                }, concurrency: concurrency,
                transform: {
                    batch -> (batch: [(rowID: Int64, text: String)], result: Result<EmbeddingClient.Batch, RunStop>) in
                    do throws(RunStop) {
                        return (batch, .success(try await embedder.vectors(for: batch.map(\.text))))
                    } catch {
                        return (batch, .failure(error))
                    }
                },
                emit: { outcome in
                    switch outcome.result {
                    case .success(.vectors(let vectors, let computed, let usage, let requests)):
                        let pairs = zip(outcome.batch, vectors).map { ($0.rowID, $1) }
                        try await index.perform { try $0.setVectors(pairs) }
                        changes.vectorsAdded += pairs.count
                        changes.embedded += computed
                        changes.usage += usage
                        changes.requests += requests
                    case .success(.failed(let reason, let usage, let requests)):
                        changes.embeddingFailures += outcome.batch.count
                        changes.usage += usage
                        changes.requests += requests
                        if changes.failures.count < 5 {
                            changes.failures.append("embedding \(outcome.batch.count) chunks: \(reason)")
                        }
                    case .success(.missing(let count)):
                        changes.vectorsPending += count
                    case .failure(let stop):
                        if changes.stop == nil { changes.stop = stop }
                    }
                }, shouldStop: { shouldStop() })
        }
    }

    static func chunk(_ item: PipelineItem) -> IndexedChunk {
        let number = { (key: String) in item.fields[key]?.numberValue.map { Int($0) } }
        return IndexedChunk(
            index: number("chunk_idx") ?? 0, text: item.fields["text"]?.stringValue ?? "", page: number("page"),
            headings: item.fields["headings"]?.arrayValue?.compactMap(\.stringValue) ?? [], start: number("start") ?? 0,
            end: number("end") ?? 0)
    }
}

extension IndexStage: Stage {
    /// Brings the search index in step with its ingest stage, then embeds what lacks a vector.
    package func run(
        _ run: StageRun, report: inout StageReport, emit: (PipelineItem) async throws -> Void
    ) async throws
        -> RunStop?
    {
        if !run.mode.useCache, !dryRun {
            // --fresh: the index is rebuilt from scratch (its documents are re-extracted by a fresh ingest stage).
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: indexPath + suffix) }
        }
        let changes = try await update(
            from: run.inputs, shouldStop: run.shouldStop,
            documentDone: { id, status in
                try await emit(PipelineItem(id: id, fields: JSONObject([("status", .string(status))])))
            })
        report.items = changes.chunks
        report.computed = changes.added + changes.updated + changes.removed
        report.cached = changes.unchanged
        report.failed = changes.embeddingFailures
        report.pending = changes.vectorsPending
        report.usage = changes.usage
        report.requests = changes.requests
        let documents = changes.added + changes.updated + changes.unchanged
        var summary =
            "\(dryRun ? "would index" : "indexed") \(changes.chunks) chunks of \(documents) documents in \(indexPath): "
            + "\(changes.added) added, \(changes.updated) updated, \(changes.unchanged) unchanged, "
            + "\(changes.removed) removed"
        if embedder != nil { summary += "; vectors: \(changes.vectorsAdded) added, \(changes.embedded) newly embedded" }
        report.note(summary)
        for failure in changes.failures { report.note(failure) }
        return changes.stop
    }
}
