import Foundation
import KilnBasics
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

    /// Reads a `load` stage's source to its end (every row is counted; the first `keep` are kept).
    package static func load(
        _ spec: StageSpec, pipeline: Pipeline, baseDirectory: String, keep: Int = 16
    ) async throws -> SourceSample? {
        guard case .load(let settings) = spec.settings else { return nil }
        var kiln: String?
        if case .kilnProject(_, let taskID) = pipeline.task?.origin { kiln = taskID }
        let stage = LoadStage(
            stageID: spec.id, settings: settings, baseDirectory: baseDirectory, defaultTaskID: kiln)
        var sample = SourceSample(count: 0, samples: [], skipped: 0)
        try await stage.read(
            emit: { item in
                sample.count += 1
                if sample.samples.count < keep { sample.samples.append(item) }
            }, skipped: { _ in sample.skipped += 1 })
        if let limit = settings.limit { sample.count = min(sample.count, limit) }
        return sample
    }

    /// The documents an `ingest` stage would read (their paths, as samples' ids).
    package static func documents(_ spec: StageSpec, baseDirectory: String) -> SourceSample? {
        guard case .ingest(let settings) = spec.settings else { return nil }
        let stage = IngestStage(
            stageID: spec.id, settings: settings, baseDirectory: baseDirectory, store: InMemoryCheckpointStore(),
            mode: CacheMode(useCache: false, offline: true), transcriber: nil)
        let files = stage.files()
        let bytes = files.reduce(0) { total, path in
            total + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        }
        return SourceSample(
            count: files.count,
            samples: [PipelineItem(id: "documents", fields: JSONObject([("bytes", .integer(bytes))]))], skipped: 0)
    }
}
