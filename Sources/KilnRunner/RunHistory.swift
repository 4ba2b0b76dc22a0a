package import Foundation
package import KilnBasics
package import KilnModel
package import KilnReports
package import KilnStages
package import KilnStore

/// A pipeline's run history, kept in its checkpoint store beside the work it records (SQLite or PostgreSQL alike):
/// a record per run, its judged items per stage (scores and a hash), and each item's whole JSON once per content —
/// a rerun that changed nothing adds a record and no item body. `runs`, `compare` and `--baseline` read it without
/// a call.
package enum RunHistory {
    static let storeStage = "_runs"
    /// Bodies checked and written per round trip.
    static let bodyBatch = 500

    static func indexKey(_ pipeline: String) -> String { "runs:\(pipeline)" }
    static func runKey(_ pipeline: String, _ id: String) -> String { "run:\(pipeline):\(id)" }
    static func itemsKey(_ pipeline: String, _ id: String, _ stage: String) -> String {
        "run-items:\(pipeline):\(id):\(stage)"
    }
    static func bodyKey(_ hash: String) -> String { "run-body:\(hash)" }

    /// A judge stage of the run: its summary (summary.json without items) and the results file it wrote.
    package struct Judged: Sendable {
        package var stage: String
        package var summary: JSONValue
        package var resultsFile: String

        package init(stage: String, summary: JSONValue, resultsFile: String) {
            self.stage = stage
            self.summary = summary
            self.resultsFile = resultsFile
        }
    }

    /// Records a finished (or stopped) run and returns its record. Items and bodies are written before the record
    /// and the record before the index lists it: a listed run always has its items.
    package static func record(
        _ report: RunReport, pipeline: Pipeline, judged: [Judged], startedAt: Date, exit: (code: Int32, reason: String),
        in store: any CheckpointStore
    ) async throws -> RunRecord {
        let folder = URL(fileURLWithPath: pipeline.sourcePath).deletingLastPathComponent().path
        let fingerprints = StageLedger.fingerprints(of: pipeline, baseDirectory: folder)
        let pipelineHash = SHA256.hex(fingerprints.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined())
        let id = RunRecord.makeID(
            startedAt: startedAt,
            seed: "\(pipelineHash)|\(startedAt.timeIntervalSince1970)|\(ProcessInfo.processInfo.processIdentifier)")
        var records: [CheckpointRecord] = []
        for stage in judged {
            let items = try await storeBodies(of: stage.resultsFile, in: store)
            records.append(
                CheckpointRecord(
                    key: itemsKey(pipeline.name, id, stage.stage), stage: storeStage, status: .done,
                    item: .array(items.map(\.stored))))
        }
        let stages = report.stages.map { stage in
            var line = RunRecord.StageLine(
                id: stage.id, type: stage.type.rawValue, fingerprint: fingerprints[stage.id] ?? "", items: stage.items,
                cached: stage.cached, computed: stage.computed, failed: stage.failed)
            line.unitKeys = stage.unitKeys.count > 0 ? stage.unitKeys.text : ""
            return line
        }
        let run = RunRecord(
            id: id, pipeline: pipeline.name, pipelineHash: pipelineHash, startedAt: startedAt.timeIntervalSince1970,
            finishedAt: Date().timeIntervalSince1970, gitCommit: GitCommit.of(folder: folder),
            exitCode: Int(exit.code), outcome: exit.reason, paid: report.usage,
            cost: report.stages.reduce(Usage()) { $0 + $1.usage + $1.storedUsage }, stages: stages,
            judged: judged.map(\.summary))
        records.append(
            CheckpointRecord(key: runKey(pipeline.name, id), stage: storeStage, status: .done, item: run.json))
        try await store.write(records)
        // In one step: runs of one pipeline ending together (shards, overlapping jobs) are all listed.
        try await store.append(.string(id), toListAt: indexKey(pipeline.name), stage: storeStage)
        return run
    }

    /// Reads a results file a line at a time and stores the bodies the store does not hold yet.
    private static func storeBodies(
        of resultsFile: String, in store: any CheckpointStore
    ) async throws
        -> [ScoredItem]
    {
        let reader = try ScoredItem.Reader(resultsFile: resultsFile)
        var items: [ScoredItem] = []
        var pending: [String: JSONValue] = [:]
        func flush() async throws {
            let known = try await store.records(forKeys: pending.keys.map(bodyKey))
            let new = pending.filter { known[bodyKey($0.key)] == nil }.map { hash, item in
                CheckpointRecord(key: bodyKey(hash), stage: storeStage, status: .done, item: item)
            }
            if !new.isEmpty { try await store.write(new) }
            pending.removeAll(keepingCapacity: true)
        }
        while let (scored, item, _) = reader.next() {
            items.append(scored)
            if let body = scored.body { pending[body] = item }
            if pending.count >= bodyBatch { try await flush() }
        }
        try await flush()
        return items
    }

    private static func runIDs(of pipeline: String, in store: any CheckpointStore) async throws -> [String] {
        let key = indexKey(pipeline)
        return try await store.records(forKeys: [key])[key]?.item?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// One recorded run of `pipeline`, by its id (one read, not the whole history).
    package static func run(
        _ id: String, of pipeline: String, in store: any CheckpointStore
    ) async throws
        -> RunRecord?
    {
        let key = runKey(pipeline, id)
        return try await store.records(forKeys: [key])[key]?.item.flatMap(RunRecord.init(json:))
    }

    /// Every recorded run of `pipeline`, oldest first.
    package static func runs(of pipeline: String, in store: any CheckpointStore) async throws -> [RunRecord] {
        let ids = try await runIDs(of: pipeline, in: store)
        let records = try await store.records(forKeys: ids.map { runKey(pipeline, $0) })
        return ids.compactMap { records[runKey(pipeline, $0)]?.item.flatMap(RunRecord.init(json:)) }
    }

    /// A run as one side of a comparison: its judged items per stage (without their texts; see `withDetails`).
    package static func side(of run: RunRecord, in store: any CheckpointStore) async throws -> RunSide {
        var stages: [RunSide.Stage] = []
        for summary in run.judged {
            guard let stage = summary["stage"]?.stringValue else { continue }
            let key = itemsKey(run.pipeline, run.id, stage)
            let stored = try await store.records(forKeys: [key])[key]?.item?.arrayValue ?? []
            stages.append(RunSide.Stage(summary: summary, items: stored.compactMap(ScoredItem.init(stored:))))
        }
        let fingerprints = Dictionary(run.stages.map { ($0.id, $0.fingerprint) }) { first, _ in first }
        return RunSide(name: run.id, stages: stages, fingerprints: fingerprints)
    }

    /// The items with their texts, read from the bodies the store keeps (an item whose body is missing keeps none).
    package static func withDetails(
        _ items: [ScoredItem], in store: any CheckpointStore
    ) async throws -> [ScoredItem] {
        let bodies = try await store.records(forKeys: items.compactMap(\.body).map(bodyKey))
        return items.map { item in
            var item = item
            if item.detail == nil, let body = item.body, let json = bodies[bodyKey(body)]?.item {
                item.detail = ScoredItem.Detail(item: json)
            }
            return item
        }
    }

    /// The comparison with the texts of every item it lists (those a summary.json baseline carries are kept).
    package static func withDetails(
        _ comparison: RunComparison, in store: any CheckpointStore
    ) async throws -> RunComparison {
        var comparison = comparison
        let listed = comparison.items.flatMap { [$0.before, $0.after].compactMap { $0 } }
        var details: [String: ScoredItem.Detail] = [:]
        for item in try await withDetails(listed, in: store) {
            if let body = item.body, let detail = item.detail { details[body] = detail }
        }
        for index in comparison.items.indices {
            if let body = comparison.items[index].before?.body, let detail = details[body] {
                comparison.items[index].before?.detail = detail
            }
            if let body = comparison.items[index].after?.body, let detail = details[body] {
                comparison.items[index].after?.detail = detail
            }
        }
        return comparison
    }

    /// The item's whole JSON, as its run wrote it.
    package static func body(_ hash: String, in store: any CheckpointStore) async throws -> JSONValue? {
        try await bodies([hash], in: store)[hash]
    }

    /// Items' whole JSON by hash (those the store holds).
    package static func bodies(_ hashes: [String], in store: any CheckpointStore) async throws -> [String: JSONValue] {
        var bodies: [String: JSONValue] = [:]
        for start in stride(from: 0, to: hashes.count, by: bodyBatch) {
            let chunk = hashes[start..<min(start + bodyBatch, hashes.count)]
            let records = try await store.records(forKeys: chunk.map(bodyKey))
            for hash in chunk { if let item = records[bodyKey(hash)]?.item { bodies[hash] = item } }
        }
        return bodies
    }
}
