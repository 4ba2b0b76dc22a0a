import Foundation
import KilnBasics
package import KilnModel
import KilnProject
import KilnStages
package import KilnStore

/// What the last run of a stage ended with, kept in the checkpoint store beside the results: `status` reads every
/// stage's line with one query instead of replaying the run. Each line carries the stage's fingerprint (its
/// settings, its providers, the task, its input files and every stage upstream), so a line written before the
/// pipeline or its data changed is shown as such, never as the current state.
package struct StageLedgerEntry: Sendable, Hashable {
    package var stage: String
    package var fingerprint: String
    /// When the run ended (seconds since 1970).
    package var finishedAt: Double
    /// Why the run stopped before this stage had all its input, if it did (Ctrl-C, budget, quota…).
    package var stoppedBy: String?
    package var done: Int
    package var failed: Int
    /// Offline runs: units the store had no answer for.
    package var pending: Int
    package var items: Int
    package var skipped: Int
    package var filtered: Int
    /// What the stage's current units cost: paid in that run, and earlier for those served from the store.
    package var usage: Usage
    /// The first notes of the run (failures and warnings), for the text view.
    package var problems: [String]
    /// Every failed unit, document or row and every skipped row, with its reason (up to
    /// `StageReport.failureLimit`).
    package var failures: [String]
    package var files: [String]

    /// The store key of a stage's line (of one shard's run, for a shard).
    static func key(pipeline: String, stage: String, shard: Shard? = nil) -> String {
        "ledger:\(pipeline):\(stage)" + (shard.map { ":shard-\($0.index)-of-\($0.count)" } ?? "")
    }

    /// The store key of the shard count the shards of a pipeline were last run with.
    static func shardCountKey(pipeline: String) -> String { "ledger:\(pipeline):shards" }

    /// The stage name under which ledger lines are stored (kept apart from the stages' own results).
    static let storeStage = "_ledger"

    init(report: StageReport, fingerprint: String, stop: RunStop?, now: Double) {
        stage = report.id
        self.fingerprint = fingerprint
        finishedAt = now
        stoppedBy = stop.map { "\($0)" }
        // Stages that pass items on without units of work of their own (split) count their items as done.
        let units = report.cached + report.computed
        done = units == 0 && report.failed == 0 ? report.items : units
        failed = report.failed
        pending = report.pending
        items = report.items
        skipped = report.skipped
        filtered = report.filtered
        usage = report.usage + report.storedUsage
        problems = report.problems
        failures = report.failures
        files = report.files
    }

    var json: JSONValue {
        .object(
            JSONObject([
                ("stage", .string(stage)), ("fingerprint", .string(fingerprint)), ("finished_at", .double(finishedAt)),
                ("stopped_by", stoppedBy.map(JSONValue.string) ?? .null), ("done", .integer(done)),
                ("failed", .integer(failed)), ("pending", .integer(pending)), ("items", .integer(items)),
                ("skipped", .integer(skipped)), ("filtered", .integer(filtered)),
                ("input_tokens", .integer(usage.inputTokens)), ("output_tokens", .integer(usage.outputTokens)),
                ("cost_usd", .double(usage.costUSD)), ("problems", .array(problems.map(JSONValue.string))),
                ("failures", .array(failures.map(JSONValue.string))), ("files", .array(files.map(JSONValue.string))),
            ]))
    }

    init?(json: JSONValue) {
        guard let stage = json["stage"]?.stringValue, let fingerprint = json["fingerprint"]?.stringValue else {
            return nil
        }
        func int(_ name: String) -> Int { Int(json[name]?.numberValue ?? 0) }
        self.stage = stage
        self.fingerprint = fingerprint
        finishedAt = json["finished_at"]?.numberValue ?? 0
        stoppedBy = json["stopped_by"]?.stringValue
        done = int("done")
        failed = int("failed")
        pending = int("pending")
        items = int("items")
        skipped = int("skipped")
        filtered = int("filtered")
        usage = Usage(
            inputTokens: int("input_tokens"), outputTokens: int("output_tokens"),
            costUSD: json["cost_usd"]?.numberValue ?? 0)
        problems = json["problems"]?.arrayValue?.compactMap(\.stringValue) ?? []
        failures = json["failures"]?.arrayValue?.compactMap(\.stringValue) ?? []
        files = json["files"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}

/// Reads and writes a pipeline's stage lines, and computes the fingerprints they are checked against.
package enum StageLedger {
    /// Every stage's line for `pipeline`, by stage id (one query).
    package static func read(
        _ pipeline: Pipeline, from store: any CheckpointStore
    ) async throws -> [String: StageLedgerEntry] {
        let keys = pipeline.stages.map { StageLedgerEntry.key(pipeline: pipeline.name, stage: $0.id) }
        var entries: [String: StageLedgerEntry] = [:]
        for record in try await store.records(forKeys: keys).values {
            if let entry = record.item.flatMap(StageLedgerEntry.init(json:)) { entries[entry.stage] = entry }
        }
        return entries
    }

    /// Saves the lines of the stages a run ran (a shard's lines are its own, beside the shard count).
    static func write(
        _ reports: [StageReport], stop: RunStop?, pipeline: Pipeline, baseDirectory: String, shard: Shard?,
        to store: any CheckpointStore
    ) async throws {
        let fingerprints = fingerprints(of: pipeline, baseDirectory: baseDirectory)
        let now = Date().timeIntervalSince1970
        var records = reports.compactMap { report -> CheckpointRecord? in
            guard let fingerprint = fingerprints[report.id] else { return nil }
            let entry = StageLedgerEntry(report: report, fingerprint: fingerprint, stop: stop, now: now)
            return CheckpointRecord(
                key: StageLedgerEntry.key(pipeline: pipeline.name, stage: report.id, shard: shard),
                stage: StageLedgerEntry.storeStage, status: .done, item: entry.json)
        }
        if let shard {
            records.append(
                CheckpointRecord(
                    key: StageLedgerEntry.shardCountKey(pipeline: pipeline.name), stage: StageLedgerEntry.storeStage,
                    status: .done, item: .integer(shard.count)))
        }
        try await store.write(records)
    }

    /// How the last sharded run of `pipeline` stands: its shard count, how many shards finished every stage they
    /// run, and what the others lack; nil when the pipeline was never run in shards.
    package static func shardProgress(
        of pipeline: Pipeline, baseDirectory: String, in store: any CheckpointStore
    ) async throws -> (count: Int, finished: Int, problems: [String])? {
        let countKey = StageLedgerEntry.shardCountKey(pipeline: pipeline.name)
        guard let count = try await store.records(forKeys: [countKey])[countKey]?.item?.numberValue.map({ Int($0) })
        else { return nil }
        let problems = try await unfinishedShards(
            of: pipeline, stages: stagesOfShards(pipeline), baseDirectory: baseDirectory, in: store)
        let unfinished = Set(problems.map(\.shard))
        return (count, count - unfinished.count, problems.map(\.problem))
    }

    /// The stages a shard runs, of `stages` (default: all): all but those that need every item, and what reads from
    /// them.
    package static func stagesOfShards(_ pipeline: Pipeline, among stages: [StageSpec]? = nil) -> [StageSpec] {
        let stages = stages ?? pipeline.stages
        let later = RunEngine.downstreamClosure(
            of: Set(stages.filter { Shard.needsWholeInput($0.type) }.map(\.id)), in: pipeline)
        return stages.filter { !later.contains($0.id) }
    }

    /// Before `--after-shards`: what keeps the shards' work from being complete — a shard with no finished run of
    /// a stage, a run that stopped or left units pending, or one made before the pipeline or its data changed.
    /// Empty when every shard finished every stage it runs.
    static func unfinishedShards(
        of pipeline: Pipeline, stages: [StageSpec], baseDirectory: String, in store: any CheckpointStore
    ) async throws -> [(shard: Shard?, problem: String)] {
        let countKey = StageLedgerEntry.shardCountKey(pipeline: pipeline.name)
        guard let count = try await store.records(forKeys: [countKey])[countKey]?.item?.numberValue.map({ Int($0) }),
            count > 0
        else { return [(nil, "no shard has run this pipeline yet")] }
        let fingerprints = fingerprints(of: pipeline, baseDirectory: baseDirectory)
        let shards = (0..<count).map { Shard(index: $0, count: count) }
        var keys: [String] = []
        for shard in shards {
            keys += stages.map { StageLedgerEntry.key(pipeline: pipeline.name, stage: $0.id, shard: shard) }
        }
        let records = try await store.records(forKeys: keys)
        var problems: [(shard: Shard?, problem: String)] = []
        for shard in shards {
            for stage in stages {
                let key = StageLedgerEntry.key(pipeline: pipeline.name, stage: stage.id, shard: shard)
                guard let entry = records[key]?.item.flatMap(StageLedgerEntry.init(json:)) else {
                    problems.append((shard, "shard \(shard) has not finished stage '\(stage.id)'"))
                    continue
                }
                if entry.fingerprint != fingerprints[stage.id] {
                    problems.append(
                        (shard, "shard \(shard) ran stage '\(stage.id)' before the pipeline or its data changed"))
                } else if let stop = entry.stoppedBy {
                    problems.append((shard, "shard \(shard) stopped in stage '\(stage.id)' (\(stop))"))
                } else if entry.pending > 0 {
                    problems.append(
                        (shard, "shard \(shard) left \(entry.pending) units of stage '\(stage.id)' pending"))
                }
            }
        }
        return problems
    }

    /// Each stage's fingerprint: what it is (settings, providers, task) and what it reads (its input files, and the
    /// fingerprints of the stages upstream). Source positions are left out: re-indenting a file changes nothing.
    package static func fingerprints(of pipeline: Pipeline, baseDirectory: String) -> [String: String] {
        var fingerprints: [String: String] = [:]
        func fingerprint(_ stage: StageSpec) -> String {
            if let known = fingerprints[stage.id] { return known }
            // A cycle cannot pass validation; the placeholder only guards the recursion.
            fingerprints[stage.id] = ""
            var parts = [CanonicalDescription.of(stage.settings, skipping: ["location"])]
            parts += stage.settings.providerNames.sorted().map { name in
                CanonicalDescription.of(pipeline.provider(named: name) as Any, skipping: ["location"])
            }
            parts.append(CanonicalDescription.of(pipeline.task as Any, skipping: ["location"]))
            // A search tool's answers depend on its index as much as on the stage's own input.
            parts += (stage.from + stage.settings.waitsFor).compactMap { pipeline.stage(withID: $0) }.map(fingerprint)
            parts += inputFiles(of: stage, baseDirectory: baseDirectory).map(signature)
            let value = SHA256.hex(parts.joined(separator: "\n"))
            fingerprints[stage.id] = value
            return value
        }
        for stage in pipeline.stages { _ = fingerprint(stage) }
        return fingerprints
    }

    /// The files or folders a source stage reads.
    private static func inputFiles(of stage: StageSpec, baseDirectory: String) -> [String] {
        func resolve(_ path: String) -> String {
            path.hasPrefix("/") ? path : URL(fileURLWithPath: baseDirectory).appendingPathComponent(path).path
        }
        switch stage.settings {
        case .load(let settings):
            // A Kiln project's runs live below its project.kiln: the whole project folder counts.
            let project = settings.kilnProject.map {
                URL(fileURLWithPath: KilnProjectFolder.projectFile(at: resolve($0))).deletingLastPathComponent().path
            }
            return [settings.path.map(resolve), project].compactMap { $0 }
        case .ingest(let settings):
            return settings.paths.map { resolve($0.split(separator: "*").first.map(String.init) ?? $0) }
        default:
            return []
        }
    }

    /// A file's or folder's path, size and modification time (a folder: of every file below it).
    private static func signature(of path: String) -> String {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isFolder) else { return "\(path): missing" }
        func stamp(_ path: String) -> String {
            let attributes = try? manager.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(path) \(size) \(modified)"
        }
        guard isFolder.boolValue else { return stamp(path) }
        let files = ((try? manager.subpathsOfDirectory(atPath: path)) ?? []).sorted()
        return files.map { stamp(URL(fileURLWithPath: path).appendingPathComponent($0).path) }.joined(separator: "\n")
    }
}
