import Foundation
import KilnBasics
import KilnIngest
package import KilnModel
import KilnStore

/// The items a source stage would start a run with, counted without running anything: `plan` forecasts from them.
package struct SourceSample: Sendable {
    /// How many items (rows, Kiln runs) or documents the source holds.
    package var count: Int
    /// The first few, as the run would read them (to price the requests made for them).
    package var samples: [PipelineItem]
    /// Rows `on_error: skip` would leave out.
    package var skipped: Int
    /// For documents: the chunks they make (counted, or extrapolated from the ones read).
    package var chunks: Int?

    /// Reads a `load` stage's source to its end (every row is counted; the first `keep` are kept).
    package static func load(
        _ spec: StageSpec, pipeline: Pipeline, baseDirectory: String, keep: Int = 16
    ) async throws -> SourceSample? {
        guard case .load(let settings) = spec.settings else { return nil }
        var kiln: String?
        if case .kilnProject(_, let taskID) = pipeline.task?.origin { kiln = taskID }
        let stage = LoadStage(
            stageID: spec.id, settings: settings, baseDirectory: baseDirectory, defaultTaskID: kiln,
            pipelineName: pipeline.name)
        var sample = SourceSample(count: 0, samples: [], skipped: 0)
        try await stage.read(
            emit: { item in
                sample.count += 1
                if sample.samples.count < keep { sample.samples.append(item) }
            }, skipped: { _ in sample.skipped += 1 })
        if let limit = settings.limit { sample.count = min(sample.count, limit) }
        return sample
    }

    /// The documents an `ingest` stage would read (`count`), and the chunks they make (`chunks`, `samples`: a few
    /// chunks' texts as items). Reading documents costs no call, so up to `keep` of them are extracted and chunked
    /// for real — all of them when there are no more — and the rest counted in proportion to their bytes.
    package static func documents(_ spec: StageSpec, baseDirectory: String, keep: Int = 8) async -> SourceSample? {
        guard case .ingest(let settings) = spec.settings else { return nil }
        let stage = IngestStage(
            stageID: spec.id, settings: settings, baseDirectory: baseDirectory, store: InMemoryCheckpointStore(),
            mode: CacheMode(useCache: false, offline: true), transcriber: nil)
        let roots = stage.roots
        let files = stage.files().files.filter { stage.refusal(of: $0, roots: roots) == nil }
        func size(_ path: String) -> Int {
            (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        }
        let stride = max(1, files.count / max(1, keep))
        let read = Swift.stride(from: 0, to: files.count, by: stride).prefix(keep).map { files[$0] }
        let options = ExtractionOptions(
            maxBytes: Int(settings.maxFileMB * 1_048_576), maxPages: settings.maxPages, encoding: settings.encoding)
        let chunker = Chunker(settings: settings.chunker)
        var chunks = 0
        var readBytes = 0
        var samples: [PipelineItem] = []
        for path in read {
            let document = await BlockingWork.run { () -> ExtractedDocument? in
                try? DocumentExtractor.extract(path: path, options: options)
            }
            guard let document else { continue }
            let pieces = chunker.chunks(of: document)
            chunks += pieces.count
            readBytes += size(path)
            for piece in pieces.prefix(2) where samples.count < keep {
                samples.append(
                    PipelineItem(id: "\(path)#\(piece.index)", fields: JSONObject([("text", .string(piece.text))])))
            }
        }
        var sample = SourceSample(count: files.count, samples: samples, skipped: 0)
        if read.count == files.count {
            sample.chunks = chunks
        } else if readBytes > 0 {
            let bytes = files.reduce(0) { $0 + size($1) }
            sample.chunks = Int((Double(chunks) * Double(bytes) / Double(readBytes)).rounded())
        }
        return sample
    }
}
